-- Deliveries by status, kept as they change. The operator's gauge
-- `landpay_webhook_deliveries{state}` used to count the whole `delivery` table at every scrape
-- (a full scan of a table that only grows); it now reads these three rows. Each delivery
-- written, removed or moved to another status changes them, in the writer's own transaction
-- (SQLite has one writer at a time).
create table delivery_tally (
    status text primary key check (status in ('pending', 'delivered', 'dead')),
    n      integer not null
);

insert into delivery_tally (status, n)
select s.status, (select count(*) from delivery d where d.status = s.status)
from (select 'pending' as status union all select 'delivered' union all select 'dead') as s;

create trigger delivery_tally_insert after insert on delivery
begin
    update delivery_tally set n = n + 1 where status = new.status;
end;

create trigger delivery_tally_update after update of status on delivery
when old.status <> new.status
begin
    update delivery_tally set n = n - 1 where status = old.status;
    update delivery_tally set n = n + 1 where status = new.status;
end;

create trigger delivery_tally_delete after delete on delivery
begin
    update delivery_tally set n = n - 1 where status = old.status;
end;
