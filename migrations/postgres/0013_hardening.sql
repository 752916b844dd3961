-- Hardening: notice numbers unique per agency, bounded records of unverified callbacks.
alter table notice drop constraint notice_notice_no_key;
-- An unbound notice (no agency) shares the '' scope.
create unique index notice_agency_notice_no_key on notice (coalesce(agency_code, ''), notice_no);

-- The payload of an unverified callback is its first 2,048 bytes; payload_bytes and
-- payload_sha256 (added by 0011) describe the whole. Sweeping them goes by verdict and age.
create index callback_verdict_received_idx on callback (verdict, received_at);
