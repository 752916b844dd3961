-- Every index of a table is written on each insert, and on each update that cannot stay on its
-- page; an IPN writes a callback, two deliveries and a notice with its lines, and the delivery
-- worker updates each delivery twice. Indexes no query reads are dropped:
-- the callback log is read newest first by its (time-ordered) id, never by time alone;
drop index if exists callback_received_idx;
-- the delivery worker reads pending rows only, through the partial indexes of 0020, and an
-- endpoint's delivery list reads that endpoint's rows newest first.
drop index if exists delivery_due_idx;
drop index if exists delivery_order_idx;
create index delivery_endpoint_idx on delivery (endpoint_id, delivery_id);

-- Room on each page for an updated row to stay on it: an update that changes no indexed column
-- and finds room on its page writes no index entry at all (a heap-only tuple). Paying a notice
-- changes only its status and times; claiming a delivery only its lock.
alter table notice set (fillfactor = 85);
alter table notice_line set (fillfactor = 85);
alter table delivery set (fillfactor = 80);
