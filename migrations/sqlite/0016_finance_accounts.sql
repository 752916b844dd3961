-- People who sign in to the finance dashboard, their server-side sessions, and the record of
-- every sign-in, failure, lock and sign-out. API tokens stay for machines.
create table finance_user (
    email               text primary key,
    role                text not null check (role in ('finance', 'admin')),
    agency_code         text,
    password_hash       text not null,
    totp_secret         text,
    totp_last_step      integer,
    disabled_at         text,
    locked_until        text,
    password_changed_at text not null,
    created_at          text not null
);

create table finance_session (
    token_hash   text primary key,
    email        text not null references finance_user (email),
    csrf         text not null,
    created_at   text not null,
    last_seen_at text not null,
    revoked_at   text
);
create index finance_session_email_idx on finance_session (email);

create table account_event (
    event_id   text primary key,
    email      text not null,
    type       text not null,
    ip         text,
    detail     text,
    created_at text not null
);
create index account_event_email_idx on account_event (email, type, created_at);

-- A finding resolved by a person keeps who, when and why.
alter table reconciliation_item add column note text;
alter table reconciliation_item add column resolved_at text;
