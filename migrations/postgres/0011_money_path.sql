-- The callback log keeps the size and digest of every payload it received, and is listed
-- newest first by time, reference or payment.
alter table callback add column payload_bytes bigint not null default 0;
alter table callback add column payload_sha256 text not null default '';
update callback set payload_bytes = octet_length(payload),
                    payload_sha256 = encode(sha256(convert_to(payload, 'UTF8')), 'hex');
create index callback_received_idx on callback (received_at, callback_id);
create index callback_txn_ref_idx on callback (txn_ref, received_at);

-- Events are numbered after they commit: writers insert them with no sequence (in parallel,
-- no shared row), and the sequencer numbers committed rows one batch at a time, in insert
-- order, continuing from the highest number given. Deliveries of an event wait for its number.
alter table event drop constraint event_pkey;
alter table event alter column sequence drop not null;
alter table event add column insert_id bigint generated always as identity;
alter table event add constraint event_pkey primary key (insert_id);
create unique index event_sequence_key on event (sequence);
create index event_unsequenced_idx on event (insert_id) where sequence is null;
alter table delivery alter column event_sequence drop not null;
create index delivery_unsequenced_idx on delivery (event_id) where event_sequence is null;
drop table event_counter;
