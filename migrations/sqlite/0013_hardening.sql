-- Hardening: notice numbers unique per agency, bounded records of unverified callbacks.
-- SQLite cannot drop a table constraint, so `notice` is rebuilt. Migrations run inside a
-- transaction with foreign keys on: deferring them lets notice_line's rows wait for their
-- notices to be inserted again (each re-inserted parent settles its children).
pragma defer_foreign_keys = on;
create table notice_copy as select * from notice;
drop table notice;
create table notice (
    notice_id    text primary key,
    notice_no    text not null,
    agency_code  text,
    dossier_code text,
    issued_at    text not null,
    taxpayer     text not null,
    treasury     text not null,
    content_hash text not null,
    status       text not null check (status in ('unpaid', 'partially_paid', 'paid')),
    created_by   text not null,
    created_at   text not null,
    updated_at   text not null
);
insert into notice (notice_id, notice_no, agency_code, dossier_code, issued_at, taxpayer, treasury,
                            content_hash, status, created_by, created_at, updated_at)
select notice_id, notice_no, agency_code, dossier_code, issued_at, taxpayer, treasury,
       content_hash, status, created_by, created_at, updated_at from notice_copy;
drop table notice_copy;
create index notice_dossier_idx on notice (dossier_code);
-- An unbound notice (no agency) shares the '' scope.
create unique index notice_agency_notice_no_key on notice (coalesce(agency_code, ''), notice_no);

-- The payload of an unverified callback is its first 2,048 bytes; payload_bytes and
-- payload_sha256 (added by 0011) describe the whole. Sweeping them goes by verdict and age.
create index callback_verdict_received_idx on callback (verdict, received_at);
