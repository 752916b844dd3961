-- Deliveries by status, kept as they change. The operator's gauge
-- `landpay_webhook_deliveries{state}` used to count the whole `delivery` table at every scrape
-- (a sequential scan of a table that only grows); it now reads these three rows.
--
-- Every statement that inserts, updates or deletes deliveries adds its net change per status
-- here, once per statement, from the statement's transition tables (one per kind of change,
-- however many of its parts write deliveries). Rows are written in status order, so writers
-- that commit concurrently lock them in one order; a statement that changes no status (the
-- delivery worker's lease) writes nothing. The table is locked while the tally starts from the
-- deliveries already there, so none written meanwhile is missed or counted twice.
lock table delivery in share row exclusive mode;

create table delivery_tally (
    status text primary key check (status in ('pending', 'delivered', 'dead')),
    n      bigint not null
);

insert into delivery_tally (status, n)
select s.status, (select count(*) from delivery d where d.status = s.status)
from (values ('pending'), ('delivered'), ('dead')) as s (status);

-- New deliveries count up (the trigger's argument 1), removed ones down (-1); the trigger's rows
-- are its statement's new rows, or its old rows.
create function delivery_tally_count() returns trigger language plpgsql as $$
begin
    insert into delivery_tally as t (status, n)
    select status, count(*) * tg_argv[0]::bigint from delivery_tally_rows
    group by status order by status
    on conflict (status) do update set n = t.n + excluded.n;
    return null;
end
$$;

create function delivery_tally_update() returns trigger language plpgsql as $$
begin
    insert into delivery_tally as t (status, n)
    select status, sum(change) from (
        select status, 1 as change from delivery_tally_new
        union all
        select status, -1 from delivery_tally_old
    ) c
    group by status having sum(change) <> 0 order by status
    on conflict (status) do update set n = t.n + excluded.n;
    return null;
end
$$;

create trigger delivery_tally_insert after insert on delivery
    referencing new table as delivery_tally_rows
    for each statement execute function delivery_tally_count('1');
create trigger delivery_tally_update after update on delivery
    referencing old table as delivery_tally_old new table as delivery_tally_new
    for each statement execute function delivery_tally_update();
create trigger delivery_tally_delete after delete on delivery
    referencing old table as delivery_tally_rows
    for each statement execute function delivery_tally_count('-1');
