-- Times are TEXT in one fixed-width UTC form (2026-11-27T08:40:20.123456Z), the same on both
-- backends, so that they sort and compare alike.
create table idempotency_key (
    client_id       text not null,
    idem_key        text not null,
    request_hash    text not null,
    state           text not null check (state in ('in_flight', 'done')),
    response_status bigint,
    response_body   text,
    locked_until    text not null,
    created_at      text not null,
    constraint idempotency_key_pkey primary key (client_id, idem_key)
);
create index idempotency_key_created_at_idx on idempotency_key (created_at);

create table assessment (
    assessment_id text primary key,
    agency_code   text,
    dossier_code  text,
    created_by    text not null,
    procedure     text not null,
    as_of         text not null,
    rule_set      text not null,
    total         bigint not null,
    request       text not null,
    response      text not null,
    created_at    text not null
);
create index assessment_dossier_idx on assessment (dossier_code);
