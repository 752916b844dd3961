#!/usr/bin/env node
// The payer's journey in a real browser: Debian's headless Chromium driven by playwright-core,
// on a 360×780 phone viewport. Run by tests/api/browser.rs; can also be run by hand against a
// running service:
//
//   node tests/browser/pay_flow.mjs --base http://127.0.0.1:8080 --pay 'http://…/pay/pay_…?t=…' \
//        [--decline 'http://…/pay/pay_…?t=…'] [--english 'http://…/pay/pay_…?t=…'] \
//        [--expect '{"pay_…": {"lines": [{"name": "…", "amount": 45000000}], "total": 45000000}}'] \
//        [--screenshots DIR] [--chromium /usr/bin/chromium]
//
// Every option may also come from the environment: PAY_FLOW_BASE, PAY_FLOW_PAY, PAY_FLOW_DECLINE,
// PAY_FLOW_ENGLISH, PAY_FLOW_EXPECT, PAY_FLOW_SCREENSHOTS, CHROMIUM.
//
// Journeys: --pay (Vietnamese: pay page → VNPay → sandbox Pay → "Thanh toán thành công"),
// --decline (sandbox Decline → "Thanh toán không thành công" with a retry link that leads back to
// the choices), --english (the same as --pay with &lang=en), and a forged token (403 page).
// Checked throughout: every request goes to the service's own origin, no console errors, no
// failed requests, nothing wider than the phone screen, the stylesheet applied, buttons large
// enough to tap. Screenshots of every step go to tests/browser/screenshots/.
// Exit status: 0 when every check passed; 1 with a list of failures; 2 for bad usage.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  console.error(`pay_flow: ${message}`);
  console.error(
    'usage: node pay_flow.mjs --base URL --pay PAY_URL [--decline PAY_URL] [--english PAY_URL] ' +
      '[--expect JSON] [--screenshots DIR] [--chromium PATH]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    base: process.env.PAY_FLOW_BASE,
    pay: process.env.PAY_FLOW_PAY,
    decline: process.env.PAY_FLOW_DECLINE,
    english: process.env.PAY_FLOW_ENGLISH,
    expect: process.env.PAY_FLOW_EXPECT,
    screenshots: process.env.PAY_FLOW_SCREENSHOTS || path.join(HERE, 'screenshots'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts) || argv[i] === key) usage(`unknown argument ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[key] = argv[++i];
  }
  if (!opts.base) usage('--base is required');
  if (!opts.pay && !opts.decline && !opts.english) usage('give at least one of --pay, --decline, --english');
  try {
    opts.origin = new URL(opts.base).origin;
  } catch {
    usage(`--base is not a URL: ${opts.base}`);
  }
  try {
    opts.expect = opts.expect ? JSON.parse(opts.expect) : {};
  } catch (e) {
    usage(`--expect is not JSON: ${e.message}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// Checks: a failed check is recorded and the run goes on where it can; `fatal` ends a journey.

const failures = [];
let journey = 'setup';

function check(ok, what, detail = '') {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    const line = `[${journey}] ${what}${detail ? ` — ${detail}` : ''}`;
    failures.push(line);
    console.log(`  FAIL ${what}${detail ? ` — ${detail}` : ''}`);
  }
  return ok;
}

class Fatal extends Error {}
function fatal(what, detail) {
  check(false, what, detail);
  throw new Fatal(what);
}

/** 45000000 → "45.000.000 đ" (Vietnamese grouping, written independently of the service). */
function vnd(amount) {
  const digits = String(Math.trunc(amount));
  return `${digits.replace(/\B(?=(\d{3})+(?!\d))/g, '.')} đ`;
}
const VND_FORMAT = /^\d{1,3}(\.\d{3})* đ$/;
const parseVnd = (s) => Number(s.replace(/ đ$/, '').replace(/\./g, ''));
const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
const paymentId = (url) => new URL(url).pathname.split('/')[2];

// ---------------------------------------------------------------------------------------------
// The browser.

fs.mkdirSync(opts.screenshots, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'landpay-chromium-'));
const watchdog = setTimeout(() => {
  console.error('pay_flow: FAILED — gave up after 180 s (the browser or the service hangs)');
  process.exit(1);
}, 180_000);

if (!fs.existsSync(opts.chromium)) {
  console.error(`pay_flow: FAILED — no Chromium at ${opts.chromium} (apt-get install chromium)`);
  process.exit(1);
}

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: opts.chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 360, height: 780 },
  screen: { width: 360, height: 780 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'vi-VN',
  timezoneId: 'Asia/Ho_Chi_Minh',
});
context.setDefaultTimeout(15_000);
context.setDefaultNavigationTimeout(20_000);
console.log(`pay_flow: Chromium ${context.browser()?.version() ?? ''} headless, 360×780 @2x, service ${opts.origin}`);

// Every request any page makes, to prove that nothing leaves the service's origin.
const requests = [];
context.on('request', (req) => requests.push({ journey, url: req.url(), method: req.method() }));
context.on('requestfailed', (req) => {
  // A navigation that we replace ourselves is reported as aborted; everything else is a failure.
  const err = req.failure()?.errorText || '';
  if (err !== 'net::ERR_ABORTED') check(false, 'a request failed', `${req.method()} ${req.url()}: ${err}`);
});

// URLs that are meant to answer with an error (the forged-token pages).
const expectedErrors = new Set();

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(opts.screenshots, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  shot ${path.relative(process.cwd(), file)}`);
}

async function newPage() {
  const page = await context.newPage();
  page.on('console', (msg) => {
    // A forged link is meant to get its 403; anything else failing to load is an error.
    const at = msg.location()?.url || page.url();
    if (msg.type() === 'error' && !expectedErrors.has(at)) {
      check(false, 'no console errors', `${at}: ${msg.text()}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !expectedErrors.has(res.url())) {
      check(false, 'no HTTP errors', `${res.request().method()} ${res.url()} → ${res.status()}`);
    }
  });
  page.on('pageerror', (err) => check(false, 'no page errors', String(err)));
  return page;
}

/** What every page must be on a phone: styled, not wider than the screen, big tap targets. */
async function phoneChecks(page, where) {
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.right > doc.clientWidth + 0.5 || r.left < -0.5);
      })
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).replace(/ /g, '.') : ''}`);
    const header = document.querySelector('header.site');
    const taps = [...document.querySelectorAll('button, a.button')].map((el) => {
      const r = el.getBoundingClientRect();
      return { text: el.textContent.trim(), h: r.height, w: r.width };
    });
    // Money must never break across lines ("57.891" / ".500 đ").
    const broken = [...document.querySelectorAll('td, dd, th')]
      .filter((el) => /^\d{1,3}(\.\d{3})* đ$/.test(el.textContent.trim()))
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        return tops.size > 1;
      })
      .map((el) => el.textContent.trim());
    return {
      broken,
      scrollWidth: doc.scrollWidth,
      clientWidth: doc.clientWidth,
      wide: wide.slice(0, 5),
      headerBg: header ? getComputedStyle(header).backgroundColor : null,
      bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
      smallTaps: taps.filter((t) => t.h < 44 || t.w < 44),
    };
  });
  check(m.headerBg === 'rgb(11, 92, 173)', `${where}: the stylesheet is applied`, `header background ${m.headerBg}`);
  check(
    m.scrollWidth <= m.clientWidth && m.wide.length === 0,
    `${where}: nothing wider than the 360 px screen`,
    `scrollWidth ${m.scrollWidth} > ${m.clientWidth}; overflowing: ${m.wide.join(', ')}`,
  );
  check(m.broken.length === 0, `${where}: every amount on one line`, `broken: ${m.broken.join(', ')}`);
  check(m.bodyFont >= 16, `${where}: body text at least 16 px`, `${m.bodyFont}px`);
  check(m.smallTaps.length === 0, `${where}: buttons at least 44 px to tap`, JSON.stringify(m.smallTaps));
}

async function htmlLang(page) {
  return page.evaluate(() => document.documentElement.lang);
}

/** Opens a pay link and checks the lines, the total and the choices. Returns the total text. */
async function openPayPage(page, url, lang) {
  const res = await page.goto(url);
  if (!res || res.status() !== 200) fatal('the pay page opens', `HTTP ${res?.status()} for ${url}`);
  check((await htmlLang(page)) === lang, `<html lang="${lang}">`, `got "${await htmlLang(page)}"`);
  const h1 = clean(await page.locator('main h1').first().textContent());
  const title = lang === 'en' ? 'Pay for a land dossier' : 'Thanh toán hồ sơ đất đai';
  check(h1 === title, `heading "${title}"`, `got "${h1}"`);

  const rows = await page.locator('table.lines tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      name: tr.cells[0].childNodes[0].textContent.trim(),
      detail: tr.cells[0].querySelector('.small')?.textContent.trim() ?? '',
      amount: tr.cells[1].textContent.trim(),
      amountVisible: tr.cells[1].getBoundingClientRect().right <= document.documentElement.clientWidth,
    })),
  );
  const total = clean(await page.locator('#total').textContent());
  check(rows.length > 0, 'the page lists what is owed', `${rows.length} lines`);
  for (const r of rows) {
    check(VND_FORMAT.test(r.amount), `line "${r.name}" shows ${r.amount} in xx.xxx.xxx đ format`);
    check(r.amountVisible, `line "${r.name}": its amount is on screen`);
  }
  check(VND_FORMAT.test(total), `total ${total} in xx.xxx.xxx đ format`);
  const sum = rows.reduce((s, r) => s + parseVnd(r.amount), 0);
  check(sum === parseVnd(total), 'the lines add up to the total', `${vnd(sum)} ≠ ${total}`);
  const totalLabel = clean(await page.locator('table.lines tfoot td').first().textContent());
  check(totalLabel === (lang === 'en' ? 'Total' : 'Tổng cộng'), `total labelled "${totalLabel}"`);

  const expected = opts.expect[paymentId(url)];
  if (expected) {
    check(rows.length === expected.lines.length, `exactly ${expected.lines.length} lines`, `page shows ${rows.length}`);
    for (const [i, want] of expected.lines.entries()) {
      const got = rows[i] || {};
      check(
        got.name === want.name && got.amount === vnd(want.amount),
        `line ${i + 1}: "${want.name}" ${vnd(want.amount)}`,
        `page shows "${got.name}" ${got.amount}`,
      );
      if (want.days != null) {
        check(got.detail.includes(String(want.days)), `line ${i + 1}: shows ${want.days} days late`, `"${got.detail}"`);
      }
    }
    check(total === vnd(expected.total), `total is ${vnd(expected.total)}`, `page shows ${total}`);
  }
  const vnpay = page.getByRole('button', { name: 'VNPay', exact: true });
  check((await vnpay.count()) === 1, 'one VNPay button');
  return total;
}

/** From the pay page: VNPay → the sandbox, which must show the same amount. */
async function toSandbox(page, total, name) {
  await Promise.all([
    page.waitForURL(/\/sandbox\/vnpay\/paymentv2\/vpcpay\.html\?/),
    page.getByRole('button', { name: 'VNPay', exact: true }).click(),
  ]);
  check(true, 'VNPay leads to the sandbox payment page');
  const amount = clean(await page.locator('#sandbox-amount').textContent());
  check(amount === total, `the sandbox shows the amount ${total}`, `it shows ${amount}`);
  check((await page.locator('#sandbox-pay').count()) === 1, 'the sandbox offers Pay');
  check((await page.locator('#sandbox-decline').count()) === 1, 'the sandbox offers Decline');
  await phoneChecks(page, 'sandbox page');
  await screenshot(page, name);
}

/** Clicks a sandbox button and waits for the (final) result page. */
async function decide(page, button, id) {
  await Promise.all([
    page.waitForURL(new RegExp(`/pay/${id}/result\\?`)),
    page.locator(button).click(),
  ]);
  // The IPN is answered before the sandbox redirects, so the result is final at once; should it
  // still be processing, the page reloads itself every 2 s (data-refresh-url).
  await page.waitForFunction(() => !document.querySelector('[data-refresh-url]'), null, { timeout: 10_000 })
    .catch(() => check(false, 'the result page reaches a final state within 10 s'));
  return clean(await page.locator('#outcome').textContent());
}

// ---------------------------------------------------------------------------------------------
// Journeys.

async function payJourney(url, lang) {
  const id = paymentId(url);
  const en = lang === 'en';
  const page = await newPage();
  try {
    const total = await openPayPage(page, url, lang);
    await phoneChecks(page, 'pay page');
    await screenshot(page, `pay-page-${lang}`);
    await toSandbox(page, total, `sandbox-${lang}`);
    const outcome = await decide(page, '#sandbox-pay', id);
    // The gateway returns through the service, which keeps the payment's language.
    const want = en ? 'Payment successful' : 'Thanh toán thành công';
    check(outcome === want, `the result page says "${want}"`, `it says "${outcome}"`);
    const facts = clean(await page.locator('dl.facts').textContent());
    check(facts.includes(total), `the result page shows the total ${total}`, facts);
    await phoneChecks(page, 'result page');
    await screenshot(page, `result-paid-${lang}`);
    if (en) {
      check((await htmlLang(page)) === 'en', '<html lang="en"> on the result page after the gateway');
      const resultUrl = new URL(page.url());
      resultUrl.searchParams.set('lang', 'en');
      const res = await page.goto(resultUrl.href);
      check(res?.status() === 200, 'the English result page opens', `HTTP ${res?.status()}`);
      check((await htmlLang(page)) === 'en', '<html lang="en"> on the result page');
      const outcomeEn = clean(await page.locator('#outcome').textContent());
      check(outcomeEn === 'Payment successful', 'the result page says "Payment successful"', `it says "${outcomeEn}"`);
      await screenshot(page, 'result-paid-en');
    }
    // The pay link, opened again, says it is paid and offers no way to pay twice.
    await page.goto(url);
    const closed = clean(await page.locator('section.status h2').textContent().catch(() => ''));
    const paidText = en ? 'This has already been paid.' : 'Khoản này đã được thanh toán.';
    check(closed === paidText, `the pay link now says "${paidText}"`, `it says "${closed}"`);
    check((await page.getByRole('button', { name: 'VNPay', exact: true }).count()) === 0, 'no VNPay button once paid');
    await phoneChecks(page, 'paid pay page');
    await screenshot(page, `pay-page-paid-${lang}`);
  } finally {
    await page.close();
  }
}

async function declineJourney(url) {
  const id = paymentId(url);
  const page = await newPage();
  try {
    const total = await openPayPage(page, url, 'vi');
    await toSandbox(page, total, 'sandbox-decline');
    const outcome = await decide(page, '#sandbox-decline', id);
    check(outcome === 'Thanh toán không thành công', 'the result page says "Thanh toán không thành công"', `it says "${outcome}"`);
    const retry = page.getByRole('link', { name: 'Thử thanh toán lại' });
    check((await retry.count()) === 1, 'a "Thử thanh toán lại" (retry) link');
    await phoneChecks(page, 'failed result page');
    await screenshot(page, 'result-declined-vi');
    if ((await retry.count()) === 1) {
      await Promise.all([page.waitForURL(new RegExp(`/pay/${id}\\?`)), retry.click()]);
      const again = page.getByRole('button', { name: 'VNPay', exact: true });
      check((await again.count()) === 1, 'the retry link leads back to the choices');
      await screenshot(page, 'pay-page-after-decline');
    }
  } finally {
    await page.close();
  }
}

async function forgedJourney(url) {
  const page = await newPage();
  try {
    const forged = new URL(url);
    const t = forged.searchParams.get('t') || '';
    // The same payment, a token with its last character changed.
    forged.searchParams.set('t', t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A'));
    for (const [what, target] of [
      ['pay page', forged.href],
      ['result page', forged.href.replace(/\/pay\/([^/?]+)\?/, '/pay/$1/result?')],
    ]) {
      expectedErrors.add(target);
      const res = await page.goto(target);
      check(res?.status() === 403, `a forged token on the ${what} gets 403`, `HTTP ${res?.status()}`);
      const h1 = clean(await page.locator('h1').first().textContent());
      check(h1 === 'Liên kết thanh toán không hợp lệ', `the ${what} says "Liên kết thanh toán không hợp lệ"`, `it says "${h1}"`);
      check((await page.locator('table.lines, button').count()) === 0, `the ${what} shows nothing of the payment`);
    }
    await phoneChecks(page, 'forged-link page');
    await screenshot(page, 'forged-token');
  } finally {
    await page.close();
  }
}

async function run(name, fn) {
  journey = name;
  console.log(`\n== ${name}`);
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof Fatal)) check(false, 'the journey runs to its end', e.stack || String(e));
  }
}

try {
  if (opts.pay) await run('pay (vi)', () => payJourney(opts.pay, 'vi'));
  if (opts.decline) await run('decline (vi)', () => declineJourney(opts.decline));
  if (opts.english) {
    const en = new URL(opts.english);
    en.searchParams.set('lang', 'en');
    await run('pay (en)', () => payJourney(en.href, 'en'));
  }
  await run('forged token', () => forgedJourney(opts.pay || opts.decline || opts.english));
} finally {
  await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}

journey = 'network';
console.log('\n== network');
const foreign = requests.filter((r) => {
  try {
    return new URL(r.url).origin !== opts.origin && !r.url.startsWith('data:');
  } catch {
    return true;
  }
});
check(requests.length > 0, `requests recorded (${requests.length})`);
check(
  foreign.length === 0,
  `every request went to ${opts.origin}`,
  foreign.map((r) => `[${r.journey}] ${r.method} ${r.url}`).join('; '),
);

if (failures.length) {
  console.error(`\npay_flow: FAILED — ${failures.length} check(s):`);
  for (const f of failures) console.error(`  - ${f}`);
  console.error(`screenshots: ${opts.screenshots}`);
  process.exit(1);
}
console.log(`\npay_flow: all checks passed; screenshots in ${opts.screenshots}`);
