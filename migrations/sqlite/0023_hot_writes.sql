-- The indexes no query reads are dropped, as on PostgreSQL (0023 there): the callback log is
-- read newest first by its (time-ordered) id, the delivery worker reads pending rows through the
-- partial indexes of 0020, and an endpoint's delivery list reads its rows newest first.
-- (Page fill factors, the rest of 0023 on PostgreSQL, have no SQLite counterpart.)
drop index if exists callback_received_idx;
drop index if exists delivery_due_idx;
drop index if exists delivery_order_idx;
create index delivery_endpoint_idx on delivery (endpoint_id, delivery_id);
