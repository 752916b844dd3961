-- Three indexes of the order table hold only the rows their readers ask for. An order's insert
-- and every update that changes an indexed column (paying it: status, payment time and
-- confirmation number change together) write an entry in each index whose condition the new
-- row meets:
-- - the janitor looks for open orders past their expiry (`status in ('pending', 'processing')
--   and expires_at <= now`): a paid, expired or cancelled order is never read through this
--   index, so paying or closing an order no longer writes an entry to it;
-- - payments by time paid (collections, reports: `paid_at >= … and paid_at < …`) and the
--   confirmation number's lookup and uniqueness (`confirmation_no = …`) never read an order
--   that has neither, so a new order writes no entry to them.
drop index if exists payment_status_expires_idx;
create index payment_status_expires_idx on payment (status, expires_at)
    where status in ('pending', 'processing');
drop index if exists payment_paid_at_idx;
create index payment_paid_at_idx on payment (paid_at) where paid_at is not null;
drop index if exists payment_confirmation_no_key;
create unique index payment_confirmation_no_key on payment (confirmation_no)
    where confirmation_no is not null;
