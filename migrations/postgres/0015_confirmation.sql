-- The payer's confirmation: a number unique across the service, given in the transaction that
-- pays the order, and the mail outbox of confirmations to e-mail (retried until sent).
alter table payment add column confirmation_no text;
create unique index payment_confirmation_no_key on payment (confirmation_no);

create table mail_outbox (
    payment_id      text not null references payment (payment_id),
    kind            text not null check (kind in ('confirmation')),
    status          text not null check (status in ('pending', 'sent', 'failed', 'skipped')),
    tries           bigint not null default 0,
    next_attempt_at text not null,
    last_error      text,
    created_at      text not null,
    updated_at      text not null,
    constraint mail_outbox_pkey primary key (payment_id, kind)
);
create index mail_outbox_due_idx on mail_outbox (status, next_attempt_at);
