-- One first-time VNPay IPN, statement for statement as the service runs it on PostgreSQL
-- (src/http/callbacks.rs vnpay_ipn_inner → src/storage/payments.rs record_callback and
-- apply_gateway_result → src/storage/txops.rs audit, load_payment, emit_all), for a payment of one
-- notice line and one subscribed webhook endpoint. Run by bench/run.sh:
--   pgbench -n -M prepared -c 16 -j 2 -T <s> -f bench/ipn.pgbench.sql \
--     -D k=0 -D k0=<first row> -D per=<rows per client> -D endpoint=<whe_…> \
--     -D payload_len=… -D paid_body_len=… -D notice_body_len=… -D now=… -D money_at=…
-- Rows come from bench/ipn.pgbench.setup.sql. Client c's t-th transaction takes row
-- k0 + c*per + t (a per-client counter, so no extra statement is spent picking a row).
-- Ids the service makes in Rust (ULIDs) are made here from the row number; JSON it serialises
-- in Rust (callback payload, event bodies) is a string of the same length.
-- Left out: sqlx's connection check on pool acquire (a ping, three per IPN) and the HMAC —
-- those are the service's own costs, which is what the ≥ 75% target leaves room for.
\set k :k + 1
\set n :k0 + :client_id * :per + :k

-- Store::attempt_by_ref (on the pool, no transaction)
select attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr, expires_at, gateway_txn_no,
       paid_amount, money_at, refunded_amount, created_at
from attempt where txn_ref = 'pgb' || :n \gset a_

-- Store::record_callback: the callback and its audit record, committed on their own
begin;
insert into callback (callback_id, gateway, txn_ref, payment_id, verdict, answer, payload, received_at)
values ('cbk_pgb' || :n, 'vnpay', :a_txn_ref, :a_payment_id, 'accepted', '00', repeat('v', :payload_len),
        :now);
insert into audit (audit_id, payment_id, type, actor, data, created_at)
values ('aud_pgbc' || :n, :a_payment_id, 'callback.received', 'vnpay',
        '{"answer":"00","callback_id":"cbk_01KB0000000000000000000000","reference":"' || :a_txn_ref || '","verdict":"accepted"}',
        :now);
commit;

-- Store::apply_gateway_result: the transition
begin;
select attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr, expires_at, gateway_txn_no,
       paid_amount, money_at, refunded_amount, created_at
from attempt where txn_ref = :a_txn_ref;
update attempt set status = 'succeeded', gateway_txn_no = '14226112', bank_code = coalesce('NCB', bank_code),
       paid_amount = :a_amount, money_at = :money_at, updated_at = :now
where attempt_id = :a_attempt_id and status in ('redirected', 'unknown', 'expired');
insert into audit (audit_id, payment_id, type, actor, data, created_at)
values ('aud_pgbm' || :n, :a_payment_id, 'money.received', 'vnpay.ipn',
        '{"amount":' || :a_amount || ',"attempt_id":"' || :a_attempt_id || '","gateway":"vnpay","gateway_txn_no":"14226112","reference":"' || :a_txn_ref || '","source":"vnpay.ipn"}',
        :now);
update payment set status = 'paid', paid_at = :money_at, paid_attempt_id = :a_attempt_id,
       updated_at = :now
where payment_id = :a_payment_id and status in ('pending', 'processing');
-- mark_notice_lines_paid!
select nl.notice_line_id, nl.notice_id from payment_line pl
join notice_line nl on nl.notice_line_id = pl.notice_line_id
where pl.payment_id = :a_payment_id and pl.kind = 'notice_line' \gset l_
update notice_line set status = 'paid', paid_by = :a_payment_id, paid_at = :money_at
where notice_line_id = :l_notice_line_id and status = 'unpaid';
select count(*) from notice_line where notice_id = :l_notice_id and status = 'unpaid';
update notice set status = 'paid', updated_at = :now where notice_id = :l_notice_id
returning agency_code;
-- payment_event(payment.paid): load_payment for the snapshot
select payment_id, agency_code, dossier_code, status, amount, refunded_amount, payer, return_url, locale, created_by,
       expires_at, paid_at, paid_attempt_id, created_at
from payment where payment_id = :a_payment_id;
select kind, source, notice_line_id, assessment_line, sub_item, name, amount, days, due_date
from payment_line where payment_id = :a_payment_id order by position;
select attempt_id, payment_id, gateway, txn_ref, status, amount, redirect_url, qr, expires_at, gateway_txn_no,
       paid_amount, money_at, refunded_amount, created_at
from attempt where payment_id = :a_payment_id order by created_at, attempt_id;
select flag, status, detail, note, created_at, resolved_at
from payment_flag where payment_id = :a_payment_id order by created_at, flag;
-- emit_all(payment.paid, notice.paid): subscriptions first, then the counter row (held until
-- commit), then one insert of both events and one of their deliveries
select endpoint_id, events, agency_code from webhook_endpoint where deleted_at is null;
update event_counter set value = value + 2 where name = 'event' returning value \gset e_
insert into event (sequence, event_id, type, payment_id, notice_id, agency_code, body, created_at)
values (:e_value - 1, 'evt_pgbp' || :n, 'payment.paid', :a_payment_id, null, 'HN-VPDKDD', repeat('p', :paid_body_len), :now),
       (:e_value, 'evt_pgbn' || :n, 'notice.paid', null, :l_notice_id, 'HN-VPDKDD', repeat('n', :notice_body_len), :now);
insert into delivery (delivery_id, endpoint_id, event_id, event_sequence, event_type, order_key,
                      status, tries, next_attempt_at, created_at, updated_at)
values ('dlv_pgbp' || :n, :endpoint, 'evt_pgbp' || :n, :e_value - 1, 'payment.paid', :a_payment_id,
        'pending', 0, :now, :now, :now),
       ('dlv_pgbn' || :n, :endpoint, 'evt_pgbn' || :n, :e_value, 'notice.paid', :l_notice_id,
        'pending', 0, :now, :now, :now);
commit;
