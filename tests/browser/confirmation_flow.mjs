#!/usr/bin/env node
// The payer's confirmation and the pages around it, in Debian's headless Chromium driven by
// playwright-core, with axe-core checking WCAG 2.1 A and AA. Run by tests/api/browser_confirmation.rs.
//
//   node tests/browser/confirmation_flow.mjs --base URL --pay PAY_URL --qr PAY_URL --fresh PAY_URL \
//        --expect JSON [--screenshots DIR] [--chromium PATH]
//
// --pay: an order of two notices, paid here on a phone (360×780): pay page → VNPay → sandbox Pay →
// result → confirmation (every line, each notice number, the total in words) → verify page.
// --qr: an order paid by VietQR: "show the code", copy buttons, the PNG, "I have transferred" →
// the result page that says when it is confirmed. --fresh: an unpaid order (the pay page).
// Then every page (pay, VietQR, result, confirmation, verify, verify 404) in Vietnamese and in
// English, at 360×780 and at 1280×800, goes through axe-core: no WCAG 2.1 A/AA violation allowed.
// Screenshots of every step go to --screenshots. Exit status: 0 when every check passed; 1 with
// a list of failures; 2 for bad usage.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG21 = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

function usage(message) {
  console.error(`confirmation_flow: ${message}`);
  process.exit(2);
}

const opts = { screenshots: path.join(HERE, 'screenshots'), chromium: '/usr/bin/chromium' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!['base', 'pay', 'qr', 'fresh', 'expect', 'screenshots', 'chromium'].includes(key)) usage(`unknown argument ${argv[i]}`);
  if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
  opts[key] = argv[i + 1];
}
for (const key of ['base', 'pay', 'qr', 'fresh', 'expect']) if (!opts[key]) usage(`--${key} is required`);
const expect = JSON.parse(opts.expect);
const origin = new URL(opts.base).origin;

const failures = [];
let journey = 'setup';
function check(ok, what, detail = '') {
  if (ok) console.log(`  ok   ${what}`);
  else {
    failures.push(`[${journey}] ${what}${detail ? ` — ${detail}` : ''}`);
    console.log(`  FAIL ${what}${detail ? ` — ${detail}` : ''}`);
  }
  return ok;
}
const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
const withPath = (payUrl, page, extra = '') => {
  const u = new URL(payUrl);
  return `${u.origin}${u.pathname}/${page}${u.search}${extra}`;
};

fs.mkdirSync(opts.screenshots, { recursive: true });
const watchdog = setTimeout(() => {
  console.error('confirmation_flow: FAILED — gave up after 240 s');
  process.exit(1);
}, 240_000);

const browser = await chromium.launch({
  executablePath: opts.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const VIEWPORTS = {
  phone: { viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
};
async function newPage(kind) {
  const context = await browser.newContext({ ...VIEWPORTS[kind], locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => check(false, 'no page errors', String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/404|Not Found/.test(msg.text())) check(false, 'no console errors', msg.text());
  });
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith('data:')) check(false, 'nothing leaves the service', u);
  });
  return page;
}

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(opts.screenshots, `confirmation-${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  shot ${path.relative(process.cwd(), file)}`);
}

/** axe-core over the whole page: no WCAG 2.1 A/AA violation. */
async function axe(page, where) {
  await page.evaluate(AXE);
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG21);
  const found = result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  check(found.length === 0, `${where}: axe-core finds no WCAG 2.1 A/AA violation (${result.passes.length} rules pass)`, found.join('; '));
}

/** Tap targets of every button and button-like link, and the language link: 44×44 px at least. */
async function tapTargets(page, where) {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('button, a.button, .lang a')].map((el) => {
      const r = el.getBoundingClientRect();
      return { text: el.textContent.trim(), w: Math.round(r.width), h: Math.round(r.height) };
    }).filter((t) => t.w < 44 || t.h < 44));
  check(small.length === 0, `${where}: tap targets at least 44×44 px`, JSON.stringify(small));
  const wide = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > width + 0.5; })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${String(el.className).replace(/ /g, '.')}`);
  });
  check(wide.length === 0, `${where}: nothing wider than the screen`, wide.join(', '));
}

async function visit(page, url, status, where) {
  const res = await page.goto(url);
  check(res && res.status() === status, `${where}: HTTP ${status}`, `got ${res?.status()} for ${url}`);
}

// ---------------------------------------------------------------------------------------------

async function payToConfirmation() {
  journey = 'pay → result → confirmation → verify (phone, vi)';
  console.log(`\n${journey}`);
  const page = await newPage('phone');
  await visit(page, opts.pay, 200, 'pay page');
  const facts = clean(await page.locator('main').textContent());
  check(facts.includes(expect.agency_vi), 'the pay page names the agency', expect.agency_vi);
  for (const no of expect.notices) check(facts.includes(no), `the pay page names notice ${no}`);
  check(facts.includes('Liên kết thanh toán hết hạn lúc'), 'one expiry line that says what it is');
  await tapTargets(page, 'pay page');
  await screenshot(page, 'pay-vi');
  await Promise.all([page.waitForURL(/\/sandbox\/vnpay\//), page.getByRole('button', { name: 'VNPay', exact: true }).click()]);
  await Promise.all([page.waitForURL(/\/result\?/), page.locator('#sandbox-pay').click()]);
  check(clean(await page.locator('#outcome').textContent()) === 'Thanh toán thành công', 'the result page says paid');
  await screenshot(page, 'result-paid-vi');
  await Promise.all([page.waitForURL(/\/receipt\?/), page.locator('#receipt-link').click()]);
  const receipt = clean(await page.locator('main').textContent());
  check(receipt.includes('Xác nhận nộp tiền'), 'the confirmation has its title');
  check(receipt.includes(expect.agency_vi), 'the confirmation names the agency');
  for (const no of expect.notices) check(receipt.includes(no), `the confirmation names notice ${no}`);
  for (const line of expect.lines) check(receipt.includes(line), `the confirmation shows the line "${line}"`);
  check(receipt.includes(`Bằng chữ: ${expect.words_vi}`), `the total in words: "${expect.words_vi}"`, receipt);
  const no = clean(await page.locator('#confirmation-no').textContent());
  check(/^XN-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(no), `a confirmation number ${no}`);
  check((await page.locator('.verify-box svg').count()) === 1, 'a QR code of the verify address');
  await tapTargets(page, 'confirmation');
  await screenshot(page, 'receipt-vi');
  const pdf = await page.request.get(new URL(await page.locator('#receipt-pdf').getAttribute('href'), page.url()).href);
  check(pdf.status() === 200 && pdf.headers()['content-type'] === 'application/pdf', 'the PDF downloads');
  await Promise.all([page.waitForURL(/\/verify\//), page.locator('#verify-url').click()]);
  const verify = clean(await page.locator('main').textContent());
  check(verify.includes(expect.total_text), 'the verify page confirms the total', verify);
  check(!verify.includes(expect.payer), 'the verify page masks the payer');
  await screenshot(page, 'verify-vi');
  await visit(page, `${origin}/verify/XN-0000-0000-0000`, 404, 'an invented number');
  await screenshot(page, 'verify-404-vi');
  await page.context().close();
  return { receipt: page.url(), no };
}

async function vietqr() {
  journey = 'VietQR on the phone (vi)';
  console.log(`\n${journey}`);
  const page = await newPage('phone');
  await visit(page, opts.qr, 200, 'pay page');
  await Promise.all([page.waitForURL(/#qr-h$/), page.locator('form button[type=submit]', { hasText: 'VietQR' }).click()]);
  check((await page.locator('.qr figure svg').count()) === 1, 'the code is shown');
  const content = clean(await page.locator('#qr-reference').textContent());
  check(content.length > 0, `the transfer content is shown exactly: ${content}`);
  check(clean(await page.locator('#qr-bank').textContent()).startsWith('Vietcombank'), 'the bank is named');
  await page.locator('button[data-copy-target="qr-reference"]').click();
  await page.waitForFunction(() => document.getElementById('copy-status').textContent.length > 0);
  check(clean(await page.locator('#copy-status').textContent()).endsWith(content), 'copying says what was copied');
  const copied = await page.evaluate(() => navigator.clipboard.readText()).catch(() => null);
  if (copied !== null) check(copied === content, 'the clipboard holds the transfer content', copied);
  const png = await page.request.get(new URL(await page.locator('#qr-png').getAttribute('href'), page.url()).href);
  check(png.status() === 200 && png.headers()['content-type'] === 'image/png', 'the PNG of the code downloads');
  await tapTargets(page, 'VietQR');
  await screenshot(page, 'vietqr-vi');
  const qrUrl = page.url();
  await Promise.all([page.waitForURL(/\/result\?/), page.locator('#transferred').click()]);
  check(clean(await page.locator('#outcome').textContent()) === 'Đang chờ ngân hàng xác nhận', 'the result page explains the wait');
  check((await page.locator('[data-refresh-url]').count()) === 1, 'it refreshes itself for now');
  await screenshot(page, 'result-bank-vi');
  const result = page.url();
  await page.context().close();
  return { qrUrl, result };
}

async function axeEverywhere(pages) {
  for (const kind of ['phone', 'desktop']) {
    for (const lang of ['vi', 'en']) {
      journey = `axe-core ${kind} ${lang}`;
      console.log(`\n${journey}`);
      const page = await newPage(kind);
      for (const [name, url, status] of pages) {
        const sep = url.includes('?') ? '&' : '?';
        const target = lang === 'en' ? url.replace(/#.*$/, '') + `${sep}lang=en` : url;
        await visit(page, target, status, name);
        await axe(page, name);
        await tapTargets(page, name);
        await screenshot(page, `${name}-${kind}-${lang}`);
      }
      await page.context().close();
    }
  }
}

try {
  const paid = await payToConfirmation();
  const qr = await vietqr();
  const verifyUrl = `${origin}/verify/${paid.no}`;
  await axeEverywhere([
    ['pay', opts.fresh, 200],
    ['vietqr', opts.qr, 200],
    ['result-paid', withPath(opts.pay, 'result'), 200],
    // Stopped refreshing (two minutes ago), so that nothing reloads under axe.
    ['result-bank', `${qr.result.replace(/&since=\d+/, '')}&since=${Math.floor(Date.now() / 1000) - 300}`, 200],
    ['receipt', withPath(opts.pay, 'receipt'), 200],
    ['verify', verifyUrl, 200],
    ['verify-404', `${origin}/verify/XN-0000-0000-0000`, 404],
  ]);
} catch (e) {
  check(false, 'the journey runs to its end', String(e && e.stack || e));
} finally {
  await browser.close();
  clearTimeout(watchdog);
}
if (failures.length) {
  console.error(`\nconfirmation_flow: FAILED (${failures.length})\n${failures.join('\n')}`);
  console.error(`screenshots: ${opts.screenshots}`);
  process.exit(1);
}
console.log(`\nconfirmation_flow: all checks passed; screenshots in ${opts.screenshots}`);
