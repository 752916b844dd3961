// The Node peer: what an integrator would write by hand following VNPay's sample shape
// (express + pg + the npm `vnpay` library), doing the plain shape of the IPN's durable work —
// the raw callback committed on its own, then attempt + order + one event row in one
// transaction — against the same database and rows as pgbench. Started by bench/run.sh:
//   PORT=… DATABASE_URL=… VNPAY_TMN_CODE=… VNPAY_SECRET=… POOL=16 node server.js
"use strict";
const crypto = require("crypto");
const express = require("express");
const { Pool } = require("pg");
const {
  VNPay, IpnFailChecksum, IpnOrderNotFound, IpnInvalidAmount, InpOrderAlreadyConfirmed, IpnUnknownError, IpnSuccess,
} = require("vnpay");

const vnpay = new VNPay({
  tmnCode: process.env.VNPAY_TMN_CODE,
  secureSecret: process.env.VNPAY_SECRET,
  vnpayHost: "https://sandbox.vnpayment.vn",
  testMode: true,
  hashAlgorithm: "SHA512",
});
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL || 16) });
const app = express();

app.get("/callbacks/vnpay/ipn", async (req, res) => {
  const raw = req.originalUrl.split("?")[1] || "";
  const now = new Date().toISOString();
  let verify;
  try {
    verify = vnpay.verifyIpnCall(req.query);
  } catch (e) {
    return res.json(IpnUnknownError);
  }
  const id = crypto.randomUUID().replace(/-/g, "");
  const sha = crypto.createHash("sha256").update(raw).digest("hex");
  try {
    await pool.query(
      `insert into callback (callback_id, gateway, txn_ref, payment_id, verdict, answer, payload, payload_bytes,
                             payload_sha256, received_at)
       values ($1, 'vnpay', $2, null, $3, $4, $5, $6, $7, $8)`,
      ["cbk_" + id, verify.vnp_TxnRef || null, verify.isVerified ? "received" : "bad_signature",
       verify.isVerified ? "" : IpnFailChecksum.RspCode, raw, Buffer.byteLength(raw), sha, now]);
  } catch (e) {
    return res.json(IpnUnknownError);
  }
  if (!verify.isVerified) return res.json(IpnFailChecksum);
  const client = await pool.connect();
  try {
    await client.query("begin");
    const attempt = await client.query(
      `update attempt set status = 'succeeded', gateway_txn_no = $2, paid_amount = amount, money_at = $3, updated_at = $3
       where txn_ref = $1 and status in ('redirected', 'unknown', 'expired') returning payment_id, amount, attempt_id`,
      [verify.vnp_TxnRef, String(verify.vnp_TransactionNo), now]);
    if (attempt.rowCount === 0) {
      await client.query("rollback");
      const known = await pool.query("select 1 from attempt where txn_ref = $1", [verify.vnp_TxnRef]);
      return res.json(known.rowCount ? InpOrderAlreadyConfirmed : IpnOrderNotFound);
    }
    const a = attempt.rows[0];
    if (Number(a.amount) !== Number(verify.vnp_Amount)) {
      await client.query("rollback");
      return res.json(IpnInvalidAmount);
    }
    const payment = await client.query(
      `update payment set status = 'paid', paid_at = $2, paid_attempt_id = $3, updated_at = $2
       where payment_id = $1 and status in ('pending', 'processing') returning payment_id, agency_code, amount, status`,
      [a.payment_id, now, a.attempt_id]);
    const body = JSON.stringify({ type: "payment.paid", created_at: now, data: { payment: payment.rows[0] } });
    await client.query(
      `insert into event (event_id, type, payment_id, notice_id, agency_code, body, created_at)
       values ($1, 'payment.paid', $2, null, $3, $4, $5)`,
      ["evt_" + id, a.payment_id, payment.rows[0] ? payment.rows[0].agency_code : null, body, now]);
    await client.query("commit");
    return res.json(IpnSuccess);
  } catch (e) {
    await client.query("rollback").catch(() => {});
    return res.json(IpnUnknownError);
  } finally {
    client.release();
  }
});

app.listen(Number(process.env.PORT), "127.0.0.1", () => console.log("node peer listening"));
