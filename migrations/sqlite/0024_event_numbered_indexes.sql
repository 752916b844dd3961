-- As on PostgreSQL (0024 there): the indexes that read events by their number hold numbered
-- events only. SQLite numbers every event at insert, so they hold the same rows as before.
drop index if exists event_sequence_key;
create unique index event_sequence_key on event (sequence) where sequence is not null;
drop index if exists event_payment_idx;
create index event_payment_idx on event (payment_id, sequence) where sequence is not null;
drop index if exists event_type_idx;
create index event_type_idx on event (type, sequence) where sequence is not null;
