-- Hardening: notice numbers unique per agency, bounded records of unverified callbacks.
alter table notice drop constraint notice_notice_no_key;
-- An unbound notice (no agency) shares the '' scope.
create unique index notice_agency_notice_no_key on notice (coalesce(agency_code, ''), notice_no);

-- The payload of an unverified callback is its first 2,048 bytes; these describe the whole.
alter table callback add column payload_bytes bigint;
alter table callback add column payload_sha256 text;
create index callback_verdict_received_idx on callback (verdict, received_at);
