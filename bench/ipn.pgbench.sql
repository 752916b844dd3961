-- The durable work of one first-time VNPay IPN in its plain shape, as an integrator would write
-- it by hand (and as bench/node-peer does): the raw callback committed on its own, then the
-- attempt, the order and one event row in one transaction. It is the yardstick for the
-- service's IPN, whose own SQL (verdict in the log, audit records, snapshot, outbox rows) is
-- what is being measured against it. Run by bench/run.sh:
--   pgbench -n -M prepared -c 16 -j 2 -T <s> -f bench/ipn.pgbench.sql \
--     -D k=0 -D k0=<first row> -D per=<rows per client> -D payload_len=… -D paid_body_len=… \
--     -D now=… -D money_at=…
-- Rows come from bench/ipn.pgbench.setup.sql. Client c's t-th transaction takes row
-- k0 + c*per + t (a per-client counter, so no extra statement is spent picking a row).
\set k :k + 1
\set n :k0 + :client_id * :per + :k

-- the raw callback, committed before anything is decided
insert into callback (callback_id, gateway, txn_ref, payment_id, verdict, answer, payload, payload_bytes,
                      payload_sha256, received_at)
values ('cbk_pgb' || :n, 'vnpay', 'pgb' || :n, null, 'received', '', repeat('v', :payload_len), :payload_len,
        repeat('0', 64), :now);

-- the transition: attempt, order, one event row
begin;
update attempt set status = 'succeeded', gateway_txn_no = '14226112', paid_amount = amount, money_at = :money_at,
       updated_at = :now
where txn_ref = 'pgb' || :n and status in ('redirected', 'unknown', 'expired')
returning payment_id \gset a_
update payment set status = 'paid', paid_at = :money_at, paid_attempt_id = 'att_pgb' || :n, updated_at = :now
where payment_id = :a_payment_id and status in ('pending', 'processing');
insert into event (event_id, type, payment_id, notice_id, agency_code, body, created_at)
values ('evt_pgb' || :n, 'payment.paid', :a_payment_id, null, 'HN-VPDKDD', repeat('p', :paid_body_len), :now);
commit;
