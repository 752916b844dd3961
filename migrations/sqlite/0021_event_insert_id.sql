-- The event and delivery tables take the shape they have on PostgreSQL (0011 there): events are
-- keyed by `insert_id`, `sequence` and `delivery.event_sequence` may be empty, and partial
-- indexes find the rows not yet numbered. SQLite still numbers every event in the transaction
-- that inserts it (its one writer commits them in order), so on SQLite those columns are never
-- empty; the counter row is replaced by the highest sequence given, read through
-- `event_sequence_key`. Existing events keep their sequence, which also becomes their insert_id.
--
-- SQLite cannot change a primary key or drop a not-null constraint in place, so both tables are
-- rebuilt. `delivery_try` refers to `delivery`, so it is rebuilt alongside, against the new
-- table, and the old tables are dropped child first: no foreign key is ever left dangling.

create table event_new (
    insert_id   integer primary key autoincrement,
    sequence    integer,
    event_id    text not null,
    type        text not null,
    payment_id  text,
    notice_id   text,
    agency_code text,
    body        text not null,
    created_at  text not null,
    constraint event_event_id_key unique (event_id)
);
insert into event_new (insert_id, sequence, event_id, type, payment_id, notice_id, agency_code,
                       body, created_at)
    select sequence, sequence, event_id, type, payment_id, notice_id, agency_code, body, created_at
    from event order by sequence;
drop table event;
alter table event_new rename to event;
create index event_payment_idx on event (payment_id, sequence);
create index event_type_idx on event (type, sequence);
create unique index event_sequence_key on event (sequence);
create index event_unsequenced_idx on event (insert_id) where sequence is null;
drop table event_counter;

create table delivery_new (
    delivery_id     text primary key,
    endpoint_id     text not null references webhook_endpoint (endpoint_id),
    event_id        text not null,
    event_sequence  integer,
    event_type      text not null,
    order_key       text not null,
    status          text not null check (status in ('pending', 'delivered', 'dead')),
    tries           integer not null default 0,
    next_attempt_at text not null,
    locked_until    text,
    created_at      text not null,
    updated_at      text not null
);
insert into delivery_new (delivery_id, endpoint_id, event_id, event_sequence, event_type,
                          order_key, status, tries, next_attempt_at, locked_until, created_at,
                          updated_at)
    select delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key, status,
           tries, next_attempt_at, locked_until, created_at, updated_at
    from delivery;
create table delivery_try_new (
    delivery_id text not null references delivery_new (delivery_id),
    attempt_no  integer not null,
    at          text not null,
    status_code integer,
    error       text,
    duration_ms integer not null,
    constraint delivery_try_pkey primary key (delivery_id, attempt_no)
);
insert into delivery_try_new (delivery_id, attempt_no, at, status_code, error, duration_ms)
    select delivery_id, attempt_no, at, status_code, error, duration_ms from delivery_try;
drop table delivery_try;
drop table delivery;
-- Renaming the parent also renames it in delivery_try_new's foreign key.
alter table delivery_new rename to delivery;
alter table delivery_try_new rename to delivery_try;
create index delivery_due_idx on delivery (status, next_attempt_at);
create index delivery_order_idx on delivery (endpoint_id, order_key, event_sequence);
create index delivery_pending_due_idx on delivery (next_attempt_at)
    where status = 'pending' and event_sequence is not null;
create index delivery_pending_order_idx on delivery (endpoint_id, order_key, event_sequence)
    where status = 'pending';
create index delivery_unsequenced_idx on delivery (event_id) where event_sequence is null;
