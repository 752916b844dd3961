-- Refunds name their money: a flag remembers the attempt whose money raised it.
alter table payment_flag add column attempt_id text;

-- Reconciliation runs scoped to an agency, written while the statement streams in ('running'),
-- and findings that a later run can close.
create table reconciliation_next (
    rec_id          text primary key,
    gateway         text not null,
    statement_date  text not null,
    status          text not null check (status in ('running', 'current', 'superseded')),
    superseded_by   text,
    summary         text not null,
    rows_total      integer not null,
    created_by      text not null,
    created_at      text not null,
    agency_code     text
);
insert into reconciliation_next (rec_id, gateway, statement_date, status, superseded_by, summary, rows_total, created_by, created_at)
    select rec_id, gateway, statement_date, status, superseded_by, summary, rows_total, created_by, created_at from reconciliation;

create table reconciliation_item_next (
    rec_id           text not null references reconciliation_next (rec_id),
    position         integer not null,
    kind             text not null check (kind in ('missing_in_ledger', 'missing_in_statement', 'amount_mismatch', 'status_mismatch', 'other_agency')),
    txn_ref          text not null,
    gateway_txn_no   text,
    payment_id       text,
    ledger_amount    integer,
    statement_amount integer,
    ledger_status    text,
    statement_status text,
    line             integer,
    status           text not null default 'open' check (status in ('open', 'resolved')),
    resolved_by      text,
    constraint reconciliation_item_pkey primary key (rec_id, position)
);
insert into reconciliation_item_next (rec_id, position, kind, txn_ref, gateway_txn_no, payment_id, ledger_amount,
                                      statement_amount, ledger_status, statement_status, line)
    select rec_id, position, kind, txn_ref, gateway_txn_no, payment_id, ledger_amount, statement_amount, ledger_status,
           statement_status, line from reconciliation_item;

drop table reconciliation_item;
drop table reconciliation;
alter table reconciliation_next rename to reconciliation;
alter table reconciliation_item_next rename to reconciliation_item;

create unique index reconciliation_current_key on reconciliation (gateway, statement_date, coalesce(agency_code, '')) where status = 'current';
create index reconciliation_item_open_ref_idx on reconciliation_item (txn_ref) where kind = 'missing_in_statement' and status = 'open';
