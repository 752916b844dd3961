-- Rows for bench/ipn.pgbench.sql, in a database migrated by `landpay migrate` after the service's
-- own IPN benchmark ran on it (run by run.sh with psql -v lo=… -v hi=…).
-- Each pgbench transaction n takes attempt 'pgb<n>' of payment 'pay_pgb<n>' (status processing,
-- one notice line), exactly like a payment the service created and sent to VNPay. The rows are
-- copies of a real notice, notice line, payment, payment line and attempt the service wrote, so
-- their sizes match; only ids and statuses change.
\set ON_ERROR_STOP on
begin;
create temporary table tpl as
select a.attempt_id, a.payment_id, pl.notice_line_id, nl.notice_id
from attempt a
join payment_line pl on pl.payment_id = a.payment_id and pl.kind = 'notice_line'
join notice_line nl on nl.notice_line_id = pl.notice_line_id
where a.gateway = 'vnpay'
order by a.attempt_id
limit 1;
select count(*) = 1 as template_found from tpl \gset
\if :template_found
\else
  \echo 'no template rows: run the service IPN benchmark on this database first'
  \quit 3
\endif

insert into notice (notice_id, notice_no, agency_code, dossier_code, issued_at, taxpayer, treasury,
                    content_hash, status, created_by, created_at, updated_at)
select 'ntc_pgb' || n, 'PGB-' || n, t.agency_code, t.dossier_code, t.issued_at, t.taxpayer, t.treasury,
       md5(n::text), 'unpaid', t.created_by, t.created_at, t.updated_at
from notice t, generate_series(:lo, :hi) n where t.notice_id = (select notice_id from tpl);

insert into notice_line (notice_line_id, notice_id, position, chapter, sub_item, name, amount, due_date,
                         interest_sub_item, status, paid_by, paid_at)
select 'ntl_pgb' || n, 'ntc_pgb' || n, t.position, t.chapter, t.sub_item, t.name, t.amount, t.due_date,
       t.interest_sub_item, 'unpaid', null, null
from notice_line t, generate_series(:lo, :hi) n where t.notice_line_id = (select notice_line_id from tpl);

insert into payment (payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer, return_url,
                     locale, created_by, expires_at, paid_at, paid_attempt_id, created_at, updated_at)
select 'pay_pgb' || n, t.agency_code, t.dossier_code, 'processing', t.amount, 0, t.payer, t.return_url,
       t.locale, t.created_by, t.expires_at, null, null, t.created_at, t.updated_at
from payment t, generate_series(:lo, :hi) n where t.payment_id = (select payment_id from tpl);

insert into payment_line (payment_id, position, kind, source, notice_line_id, assessment_line, sub_item, name,
                          amount, days, due_date)
select 'pay_pgb' || n, t.position, t.kind, 'ntc_pgb' || n, 'ntl_pgb' || n, t.assessment_line, t.sub_item, t.name,
       t.amount, t.days, t.due_date
from payment_line t, generate_series(:lo, :hi) n
where t.payment_id = (select payment_id from tpl) and t.kind = 'notice_line';

insert into payment_hold (item_key, payment_id, created_at)
select 'ntl_pgb' || n, 'pay_pgb' || n, t.created_at
from payment t, generate_series(:lo, :hi) n where t.payment_id = (select payment_id from tpl);

insert into attempt (attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr, client_ip,
                     bank_code, expires_at, gateway_txn_no, paid_amount, money_at, refunded_amount, created_at,
                     updated_at)
select 'att_pgb' || n, 'pay_pgb' || n, t.gateway, 'pgb' || n, 'redirected', t.amount, t.redirect_url, t.qr,
       t.client_ip, null, t.expires_at, null, null, null, 0, t.created_at, t.updated_at
from attempt t, generate_series(:lo, :hi) n where t.attempt_id = (select attempt_id from tpl);
commit;
analyze;
checkpoint;
