-- The callback log keeps the size and digest of every payload it received, and is listed
-- newest first by time, reference or payment.
alter table callback add column payload_bytes integer not null default 0;
alter table callback add column payload_sha256 text not null default '';
update callback set payload_bytes = length(cast(payload as blob));
create index callback_received_idx on callback (received_at, callback_id);
create index callback_txn_ref_idx on callback (txn_ref, received_at);
-- SQLite has one writer: events keep taking their sequence from the counter row at insert.
