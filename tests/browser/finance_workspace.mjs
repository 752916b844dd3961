#!/usr/bin/env node
// The finance workspace in a real browser: Debian's headless Chromium driven by playwright-core.
// Run by tests/api/finance_browser.rs; by hand against a running service:
//
//   node tests/browser/finance_workspace.mjs --base http://127.0.0.1:8080 --email E --password P \
//        --secret BASE32 --statement FILE --statement-date YYYY-MM-DD --payment pay_… --duplicate att_… \
//        --amount 5000000 --downloads DIR [--artefacts DIR] [--chromium /usr/bin/chromium]
//
// The journey: sign in with e-mail, password and a TOTP code computed here (RFC 6238, HMAC-SHA-1);
// the collections page and its chart; the XLSX download (saved to --downloads for the caller to
// read); a statement uploaded and one finding resolved with a note; the duplicate attempt of
// --payment refunded through the confirmation step; the flags page; sign out, then the old
// cookie is refused. On every page, at 1280×800 and 360×780: axe-core finds no WCAG 2.1 A/AA
// violation, nothing scrolls sideways, nothing is clipped at 1280; screenshots of both sizes go
// to --artefacts. Exit status: 0 when every check passed; 1 with the list of failures.

import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

const opts = { chromium: '/usr/bin/chromium', artefacts: 'target/finance-screenshots' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  opts[key] = argv[i + 1];
}
for (const k of ['base', 'email', 'password', 'secret', 'statement', 'statementDate', 'payment', 'duplicate', 'amount', 'downloads']) {
  if (!opts[k]) {
    console.error(`finance_workspace: --${k} is required`);
    process.exit(2);
  }
}
const origin = new URL(opts.base).origin;
const failures = [];
let where = 'setup';
function check(ok, what, detail = '') {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} [${where}] ${what}${ok || !detail ? '' : ` — ${detail}`}`);
  if (!ok) failures.push(`[${where}] ${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), written here independently of the service. */
function totp(secretB32, unixSeconds) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secretB32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

fs.mkdirSync(opts.artefacts, { recursive: true });
fs.mkdirSync(opts.downloads, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'landpay-finance-'));
const watchdog = setTimeout(() => {
  console.error('finance_workspace: FAILED — gave up after 240 s');
  process.exit(1);
}, 240_000);

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: opts.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  locale: 'vi-VN',
  timezoneId: 'Asia/Ho_Chi_Minh',
  acceptDownloads: true,
  // The pages allow no script at all (CSP); axe-core is injected by the test only.
  bypassCSP: true,
});
context.setDefaultTimeout(15_000);
const page = context.pages()[0] || (await context.newPage());
page.on('pageerror', (err) => check(false, 'no page errors', String(err)));
page.on('response', (res) => {
  if (res.status() >= 500) check(false, 'no server errors', `${res.request().method()} ${res.url()} → ${res.status()}`);
});
context.on('request', (req) => {
  if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) check(false, 'every request stays on the service', req.url());
});

async function axe(label) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }),
  );
  const v = result.violations.map((x) => `${x.id} (${x.nodes.length}: ${x.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')})`);
  check(v.length === 0, `${label}: axe-core finds no WCAG 2.1 A/AA violation`, v.join('; '));
}

async function layout(label, width) {
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const clipped = [...document.querySelectorAll('.scroll, td, th, dd, button, label, h1, h2, h3, a')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline')
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className || ''}: ${el.textContent.trim().slice(0, 30)}`);
    return { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, clipped: clipped.slice(0, 5) };
  });
  check(m.scrollWidth <= m.clientWidth, `${label} at ${width}px: no sideways scroll`, `scrollWidth ${m.scrollWidth} > ${m.clientWidth}`);
  if (width >= 1280) check(m.clipped.length === 0, `${label} at ${width}px: nothing clipped`, m.clipped.join(' | '));
}

/** Both sizes: phone first, then desktop (left at desktop). */
async function everyCheck(label) {
  for (const [w, h] of [[360, 780], [1280, 800]]) {
    await page.setViewportSize({ width: w, height: h });
    await layout(label, w);
    await axe(`${label} at ${w}px`);
    const file = path.join(opts.artefacts, `finance-${label}-${w === 360 ? 'phone' : 'desktop'}.png`);
    await page.screenshot({ path: file, fullPage: true });
  }
}

async function submit(locator) {
  await Promise.all([page.waitForLoadState('load'), locator.click()]);
  await page.waitForLoadState('load');
}

try {
  where = 'sign-in';
  await page.goto(`${origin}/finance`);
  check(page.url() === `${origin}/finance/login`, 'without a session /finance leads to the sign-in form', page.url());
  await everyCheck('sign-in');
  await page.fill('#email', opts.email);
  await page.fill('#password', opts.password);
  await page.fill('#totp', totp(opts.secret, Date.now() / 1000));
  await submit(page.getByRole('button', { name: 'Đăng nhập / Sign in' }));
  check(page.url() === `${origin}/finance`, 'signed in, on the collections page', page.url());
  const cookie = (await context.cookies(`${origin}/finance`)).find((c) => c.name === 'landpay_session');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
  check(!(await page.evaluate(() => document.cookie.includes('landpay_session'))), 'script cannot read the session cookie');

  where = 'collections';
  check((await page.locator('svg.chart rect.bar').count()) >= 1, 'the chart has bars');
  check((await page.locator('#collections tbody tr[data-key]').count()) >= 1, 'the table has rows');
  check((await page.locator('#collections').textContent()).includes('Lệ phí trước bạ nhà, đất'), 'sub-items are named');
  await everyCheck('collections');
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByText('Tải Excel (XLSX) / Download XLSX').click()]);
  await xlsx.saveAs(path.join(opts.downloads, 'collections.xlsx'));
  check(true, 'the XLSX downloaded');

  where = 'reconciliation';
  await page.goto(`${origin}/finance/reconciliations`);
  await everyCheck('reconciliations');
  await page.selectOption('#gateway', 'vnpay');
  await page.fill('#statement_date', opts.statementDate);
  await page.setInputFiles('#file', opts.statement);
  await submit(page.getByRole('button', { name: 'Đối soát / Reconcile' }));
  check(/\/finance\/reconciliations\/rec_/.test(page.url()), 'the upload shows its run', page.url());
  const labels = await page.locator('section.finding h3').allTextContents();
  check(labels.some((l) => l.startsWith('Lệch số tiền')), 'findings carry Vietnamese labels', labels.join(' | '));
  await everyCheck('findings');
  await page.selectOption('#kind', 'amount_mismatch');
  await submit(page.getByRole('button', { name: 'Lọc / Filter' }));
  check((await page.locator('section.finding').count()) === 1, 'filtered to the one amount mismatch');
  const note = 'Đã đối chiếu với VNPay: sao kê ghi sai số tiền';
  await page.locator('section.finding input[name="note"]').fill(note);
  await submit(page.getByRole('button', { name: 'Đánh dấu đã xử lý / Mark resolved' }));
  await page.selectOption('#kind', 'amount_mismatch');
  await submit(page.getByRole('button', { name: 'Lọc / Filter' }));
  const state = await page.locator('section.finding dd.state').textContent();
  check(state.includes(`Đã xử lý bởi ${opts.email}`), 'the finding is resolved by the person', state);
  check((await page.locator('section.finding').textContent()).includes(note), 'the note is shown');

  where = 'refund';
  await page.goto(`${origin}/finance/payments/${opts.payment}`);
  await everyCheck('payment');
  await page.selectOption('#attempt_id', opts.duplicate);
  await page.fill('#amount', opts.amount);
  await page.fill('#reason', 'Người nộp thanh toán trùng lần hai');
  await submit(page.getByRole('button', { name: 'Tiếp tục / Continue' }));
  check(page.url().endsWith('/refund'), 'a confirmation step before any money moves', page.url());
  await everyCheck('refund-confirm');
  await submit(page.getByRole('button', { name: /^Xác nhận hoàn/ }));
  check(page.url().includes('?refunded=rfd_'), 'back on the payment page with the refund', page.url());
  check((await page.locator('#refunds').textContent()).includes(opts.duplicate), 'the refund of the duplicate attempt is listed');
  check((await page.locator('#payment-status').textContent()).trim() === 'paid', 'the order stays paid');

  where = 'flags';
  await page.goto(`${origin}/finance/flags`);
  await everyCheck('flags');

  where = 'sign-out';
  const before = (await context.cookies(`${origin}/finance`)).find((c) => c.name === 'landpay_session');
  await page.goto(`${origin}/finance`);
  await submit(page.getByRole('button', { name: 'Đăng xuất / Sign out' }));
  check(page.url() === `${origin}/finance/login`, 'signed out, on the sign-in form', page.url());
  const res = await fetch(`${origin}/finance`, { headers: { cookie: `landpay_session=${before.value}` }, redirect: 'manual' });
  check(res.status === 303 && res.headers.get('location') === '/finance/login', 'the old cookie is refused', `HTTP ${res.status}`);
} catch (e) {
  check(false, 'the journey runs to its end', String(e && e.stack ? e.stack : e));
} finally {
  await context.close().catch(() => {});
  clearTimeout(watchdog);
}
if (failures.length) {
  console.log(`finance_workspace: FAILED — ${failures.length} check(s):\n  - ${failures.join('\n  - ')}`);
  process.exit(1);
}
console.log('finance_workspace: all checks passed');
