-- Reconciliation runs against gateway settlement files (API.md §8).
create table reconciliation (
    rec_id          text primary key,
    gateway         text not null,
    statement_date  text not null,
    status          text not null check (status in ('current', 'superseded')),
    superseded_by   text,
    summary         text not null,
    rows_total      bigint not null,
    created_by      text not null,
    created_at      text not null
);
create unique index reconciliation_current_key on reconciliation (gateway, statement_date) where status = 'current';

create table reconciliation_item (
    rec_id           text not null references reconciliation (rec_id),
    position         bigint not null,
    kind             text not null check (kind in ('missing_in_ledger', 'missing_in_statement', 'amount_mismatch', 'status_mismatch')),
    txn_ref          text not null,
    gateway_txn_no   text,
    payment_id       text,
    ledger_amount    bigint,
    statement_amount bigint,
    ledger_status    text,
    statement_status text,
    line             bigint,
    constraint reconciliation_item_pkey primary key (rec_id, position)
);

create index payment_paid_at_idx on payment (paid_at);
create index refund_updated_idx on refund (status, updated_at);
