-- The delivery worker's claim reads only pending deliveries: the due ones in time order, and for
-- each, whether an earlier pending delivery of the same payment to the same endpoint holds it
-- back. Partial indexes over pending rows keep both reads proportional to the backlog that is
-- still pending, whatever the statistics say about the delivered history.
create index delivery_pending_due_idx on delivery (next_attempt_at)
    where status = 'pending' and event_sequence is not null;
create index delivery_pending_order_idx on delivery (endpoint_id, order_key, event_sequence)
    where status = 'pending';
