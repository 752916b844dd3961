-- Refunds name their money: a flag remembers the attempt whose money raised it.
alter table payment_flag add column attempt_id text;

-- Reconciliation runs scoped to an agency, written while the statement streams in ('running'),
-- and findings that a later run can close.
alter table reconciliation add column agency_code text;
alter table reconciliation drop constraint reconciliation_status_check;
alter table reconciliation add constraint reconciliation_status_check check (status in ('running', 'current', 'superseded'));
drop index reconciliation_current_key;
create unique index reconciliation_current_key on reconciliation (gateway, statement_date, coalesce(agency_code, '')) where status = 'current';

alter table reconciliation_item drop constraint reconciliation_item_kind_check;
alter table reconciliation_item add constraint reconciliation_item_kind_check
    check (kind in ('missing_in_ledger', 'missing_in_statement', 'amount_mismatch', 'status_mismatch', 'other_agency'));
alter table reconciliation_item add column status text not null default 'open' check (status in ('open', 'resolved'));
alter table reconciliation_item add column resolved_by text;
create index reconciliation_item_open_ref_idx on reconciliation_item (txn_ref) where kind = 'missing_in_statement' and status = 'open';
