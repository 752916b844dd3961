-- A delivery no longer holds a foreign key to its webhook endpoint, as on PostgreSQL (0022 there,
-- where checking that key locked the one endpoint row in every concurrent transition). Endpoints
-- are never deleted (only marked `deleted_at`), and deliveries are only ever written by selecting
-- live endpoints. SQLite drops a foreign key by rebuilding the table; `delivery_try` refers to
-- `delivery`, so it is rebuilt alongside.
create table delivery_new (
    delivery_id     text primary key,
    endpoint_id     text not null,
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
