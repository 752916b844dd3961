#!/usr/bin/env node
// The finance dashboard in a real browser: Debian's headless Chromium driven by playwright-core,
// on a 1280×900 desktop viewport. Run by tests/api/finance_browser.rs; can also be run by hand
// against a running service:
//
//   node tests/browser/finance_dashboard.mjs --base http://127.0.0.1:8080 --finance JWT \
//        [--portal JWT] [--expect JSON] [--screenshots DIR] [--chromium /usr/bin/chromium]
//
// --expect (all keys optional):
//   {"blocks": {"Today by sub-item": {"2801": 3456789}, "Today by gateway": {"vnpay": 3456789},
//               "This month by sub-item": {…}, "This month by gateway": {…}},
//    "today": 3456789,                                   // the height-bearing bar for today
//    "flags": [{"payment_id": "pay_…", "flag": "amount_mismatch"}],
//    "resolve": {"payment_id": "pay_…", "flag": "amount_mismatch", "note": "…"}}
// A block's rows must be exactly those given (key → amount in đồng).
//
// Every option may also come from the environment: FINANCE_BASE, FINANCE_TOKEN, PORTAL_TOKEN,
// FINANCE_EXPECT, FINANCE_SCREENSHOTS, CHROMIUM.
//
// Journeys: a portal token is refused at sign-in (403, no cookie); the finance token is pasted
// into the sign-in form → the dashboard: the four collection blocks with their amounts, the
// server-drawn SVG chart of 30 days, the flagged payments; one flag is resolved with a note and
// disappears after the redirect. Checked throughout: every request goes to the service's own
// origin, no console errors, no failed requests, nothing wider than the window, the stylesheets
// applied. Screenshots go to tests/browser/screenshots/finance-*.png.
// Exit status: 0 when every check passed; 1 with a list of failures; 2 for bad usage.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  console.error(`finance_dashboard: ${message}`);
  console.error(
    'usage: node finance_dashboard.mjs --base URL --finance TOKEN [--portal TOKEN] [--expect JSON] ' +
      '[--screenshots DIR] [--chromium PATH]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    base: process.env.FINANCE_BASE,
    finance: process.env.FINANCE_TOKEN,
    portal: process.env.PORTAL_TOKEN,
    expect: process.env.FINANCE_EXPECT,
    screenshots: process.env.FINANCE_SCREENSHOTS || path.join(HERE, 'screenshots'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts) || argv[i] === key) usage(`unknown argument ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[key] = argv[++i];
  }
  if (!opts.base) usage('--base is required');
  if (!opts.finance) usage('--finance (a token with the finance role) is required');
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
const financeUrl = `${opts.origin}/finance`;

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
const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------------------------------------
// The browser.

fs.mkdirSync(opts.screenshots, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'landpay-chromium-'));
const watchdog = setTimeout(() => {
  console.error('finance_dashboard: FAILED — gave up after 180 s (the browser or the service hangs)');
  process.exit(1);
}, 180_000);

if (!fs.existsSync(opts.chromium)) {
  console.error(`finance_dashboard: FAILED — no Chromium at ${opts.chromium} (apt-get install chromium)`);
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
  viewport: { width: 1280, height: 900 },
  screen: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
  locale: 'vi-VN',
  timezoneId: 'Asia/Ho_Chi_Minh',
});
context.setDefaultTimeout(15_000);
context.setDefaultNavigationTimeout(20_000);
console.log(
  `finance_dashboard: Chromium ${context.browser()?.version() ?? ''} headless, 1280×900, service ${opts.origin}`,
);

// Every request any page makes, to prove that nothing leaves the service's origin (no CDN).
const requests = [];
context.on('request', (req) => requests.push({ journey, url: req.url(), method: req.method() }));
context.on('requestfailed', (req) => {
  const err = req.failure()?.errorText || '';
  if (err !== 'net::ERR_ABORTED') check(false, 'a request failed', `${req.method()} ${req.url()}: ${err}`);
});

// Set while a response is meant to be an error (the refused sign-in): "METHOD URL" → status.
const expectedErrors = new Map();

async function screenshot(page, name) {
  const file = path.join(opts.screenshots, `finance-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`  shot ${path.relative(process.cwd(), file)}`);
}

async function newPage() {
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const at = msg.location()?.url || page.url();
    // Chromium logs "Failed to load resource: … 403" for an error page we asked for.
    const expected = [...expectedErrors.keys()].some((k) => k.endsWith(` ${at}`));
    if (!expected) check(false, 'no console errors', `${at}: ${msg.text()}`);
  });
  page.on('response', (res) => {
    const key = `${res.request().method()} ${res.url()}`;
    if (res.status() >= 400 && expectedErrors.get(key) !== res.status()) {
      check(false, 'no HTTP errors', `${key} → ${res.status()}`);
    }
  });
  page.on('pageerror', (err) => check(false, 'no page errors', String(err)));
  return page;
}

/** What every page must be on a desktop: styled, nothing wider than the window, money unbroken. */
async function desktopChecks(page, where, { dashboard = false } = {}) {
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.right > doc.clientWidth + 0.5 || r.left < -0.5);
      })
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`);
    const broken = [...document.querySelectorAll('td, dd, th')]
      .filter((el) => /^\d{1,3}(\.\d{3})* đ$/.test(el.textContent.trim()))
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        return tops.size > 1;
      })
      .map((el) => el.textContent.trim());
    const header = document.querySelector('header.site');
    const main = document.querySelector('main');
    const grid = document.querySelector('.grid');
    return {
      scrollWidth: doc.scrollWidth,
      clientWidth: doc.clientWidth,
      wide: wide.slice(0, 5),
      broken,
      headerBg: header ? getComputedStyle(header).backgroundColor : null,
      mainWidth: main ? main.getBoundingClientRect().width : 0,
      gridDisplay: grid ? getComputedStyle(grid).display : null,
      gridColumns: grid ? getComputedStyle(grid).gridTemplateColumns.split(' ').length : 0,
    };
  });
  check(m.headerBg === 'rgb(11, 92, 173)', `${where}: pay.css is applied`, `header background ${m.headerBg}`);
  check(
    m.scrollWidth <= m.clientWidth && m.wide.length === 0,
    `${where}: nothing wider than the 1280 px window`,
    `scrollWidth ${m.scrollWidth} > ${m.clientWidth}; overflowing: ${m.wide.join(', ')}`,
  );
  check(m.broken.length === 0, `${where}: every amount on one line`, `broken: ${m.broken.join(', ')}`);
  if (dashboard) {
    // main.wide (72rem) instead of the payer pages' 40rem column, the blocks side by side.
    check(m.mainWidth > 1000, `${where}: finance.css widens the page`, `main is ${m.mainWidth}px wide`);
    check(
      m.gridDisplay === 'grid' && m.gridColumns >= 2,
      `${where}: the collection blocks sit side by side`,
      `display ${m.gridDisplay}, ${m.gridColumns} column(s)`,
    );
  }
}

/** Pastes `token` into the sign-in form and submits it; returns the response to the POST. */
async function signIn(page, token) {
  const textarea = page.locator('textarea#token');
  if ((await textarea.count()) !== 1) fatal('the sign-in form has the token textarea');
  await textarea.fill(token);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${financeUrl}/login` && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Đăng nhập / Sign in' }).click(),
  ]);
  await page.waitForLoadState('load');
  return res;
}

async function sessionCookie() {
  return (await context.cookies(opts.origin + '/finance')).find((c) => c.name === 'landpay_finance');
}

/** The four collection blocks as {title (English half) → {rows: [{key, amount, count}], empty}}. */
async function readBlocks(page) {
  return page.locator('.grid > section.card').evaluateAll((cards) =>
    cards.map((card) => {
      const title = card.querySelector('h2').textContent.trim();
      const rows = [...card.querySelectorAll('tbody tr')]
        .filter((tr) => tr.cells.length === 3)
        .map((tr) => ({
          key: tr.cells[0].textContent.trim(),
          amount: tr.cells[1].textContent.trim(),
          count: tr.cells[2].textContent.trim(),
        }));
      return { title, english: title.split(' / ').pop(), rows };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Journeys.

async function refusedJourney() {
  const page = await newPage();
  try {
    const res = await page.goto(financeUrl);
    check(res?.status() === 200, 'GET /finance answers', `HTTP ${res?.status()}`);
    const h1 = clean(await page.locator('main h1').textContent());
    check(h1 === 'Đăng nhập / Sign in', 'without a session /finance shows the sign-in form', `it shows "${h1}"`);
    check((await page.locator('svg.chart').count()) === 0, 'the sign-in page shows no dashboard');
    const ta = await page.evaluate(() => {
      const t = document.querySelector('textarea#token');
      const form = t?.closest('form');
      return t && form ? { t: t.getBoundingClientRect().width, form: form.clientWidth } : null;
    });
    check(
      ta && ta.t >= 0.8 * ta.form,
      'the token textarea spans the sign-in form (finance.css applied)',
      ta ? `${Math.round(ta.t)}px of ${ta.form}px` : 'no textarea',
    );
    await desktopChecks(page, 'sign-in page');
    await screenshot(page, '1-sign-in');

    expectedErrors.set(`POST ${financeUrl}/login`, 403);
    const post = await signIn(page, opts.portal);
    expectedErrors.delete(`POST ${financeUrl}/login`);
    check(post.status() === 403, 'a portal token is refused with 403', `HTTP ${post.status()}`);
    const alert = clean(await page.locator('[role="alert"]').textContent().catch(() => ''));
    check(
      alert.includes('This token lacks the finance role'),
      'the refusal says the token lacks the finance role',
      `it says "${alert}"`,
    );
    check((await page.locator('svg.chart, .grid').count()) === 0, 'the refusal shows nothing of the dashboard');
    check((await sessionCookie()) === undefined, 'no session cookie is set for a portal token');
    await desktopChecks(page, 'refused sign-in');
    await screenshot(page, '2-refused');

    // And the dashboard is still closed.
    await page.goto(financeUrl);
    const again = clean(await page.locator('main h1').textContent());
    check(again === 'Đăng nhập / Sign in', 'after the refusal /finance still asks to sign in', `it shows "${again}"`);
  } finally {
    await page.close();
  }
}

async function dashboardJourney() {
  const page = await newPage();
  try {
    await page.goto(financeUrl);
    const post = await signIn(page, opts.finance);
    check(post.status() === 303, 'the finance token is accepted (303 to /finance)', `HTTP ${post.status()}`);
    check(page.url() === financeUrl, 'the browser lands on /finance', page.url());
    const cookie = await sessionCookie();
    check(
      cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/finance',
      'the session cookie is HttpOnly, SameSite=Strict, path /finance',
      JSON.stringify(cookie && { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, path: cookie.path }),
    );
    const scriptVisible = await page.evaluate(() => document.cookie.includes('landpay_finance'));
    check(!scriptVisible, 'the token cannot be read from script (document.cookie)');
    const h1 = clean(await page.locator('main h1').textContent());
    if (h1 !== 'Thu nộp / Collections') fatal('the dashboard opens after sign-in', `the page shows "${h1}"`);
    check(true, 'the dashboard opens after sign-in');

    // The four collection blocks.
    const blocks = await readBlocks(page);
    const titles = ['Today by sub-item', 'Today by gateway', 'This month by sub-item', 'This month by gateway'];
    check(
      JSON.stringify(blocks.map((b) => b.english)) === JSON.stringify(titles),
      'four collection blocks: today and this month, by sub-item and by gateway',
      blocks.map((b) => b.title).join(' | '),
    );
    const cramped = await page.locator('.grid > section.card').evaluateAll((cards) =>
      cards.filter((c) => c.scrollWidth > c.clientWidth + 0.5).map((c) => c.querySelector('h2').textContent.trim()),
    );
    check(cramped.length === 0, 'every collection table fits its card', `too wide: ${cramped.join(' | ')}`);
    for (const b of blocks) {
      for (const r of b.rows) {
        check(VND_FORMAT.test(r.amount), `${b.english}: ${r.key} shows ${r.amount} in x.xxx.xxx đ format`);
      }
    }
    for (const [title, want] of Object.entries(opts.expect.blocks || {})) {
      const b = blocks.find((x) => x.english === title);
      if (!check(Boolean(b), `a block "${title}"`)) continue;
      const got = Object.fromEntries(b.rows.map((r) => [r.key, r.amount]));
      const wanted = Object.fromEntries(Object.entries(want).map(([k, v]) => [k, vnd(v)]));
      for (const [key, amount] of Object.entries(wanted)) {
        check(got[key] === amount, `${title}: ${key} is ${amount}`, `the page shows ${got[key] ?? 'no such row'}`);
      }
      const extra = Object.keys(got).filter((k) => !(k in wanted));
      check(extra.length === 0, `${title}: no other rows`, `also shows ${extra.join(', ')}`);
    }

    // The chart: drawn on the server, inline, 30 bars, today's bar up.
    const chart = page.locator('svg.chart');
    check((await chart.count()) === 1, 'one svg.chart');
    check(await chart.isVisible(), 'the chart is visible');
    const c = await page.evaluate(() => {
      const svg = document.querySelector('svg.chart');
      if (!svg) return null;
      const box = svg.getBoundingClientRect();
      const bars = [...svg.querySelectorAll('rect.bar')].map((r) => ({
        height: Number(r.getAttribute('height')),
        rendered: r.getBoundingClientRect().height,
        title: r.querySelector('title')?.textContent.trim() ?? '',
        fill: getComputedStyle(r).fill,
      }));
      return { width: box.width, height: box.height, bars };
    });
    if (c) {
      check(c.width > 500 && c.height > 100, 'the chart has a real size', `${Math.round(c.width)}×${Math.round(c.height)}`);
      check(c.bars.length === 30, 'one rect.bar per day (30)', `${c.bars.length} bars`);
      const up = c.bars.filter((b) => b.height > 0 && b.rendered > 0);
      check(up.length >= 1, 'at least one bar with non-zero height', `heights ${c.bars.map((b) => b.height).join(',')}`);
      check(
        c.bars.every((b) => b.fill === 'rgb(11, 92, 173)'),
        'the bars take the brand colour from finance.css',
        [...new Set(c.bars.map((b) => b.fill))].join(', '),
      );
      if (opts.expect.today != null) {
        const last = c.bars[c.bars.length - 1] || {};
        check(
          last.height > 0 && last.title.endsWith(`: ${vnd(opts.expect.today)}`),
          `today's bar (the last) is up and titled ${vnd(opts.expect.today)}`,
          `height ${last.height}, title "${last.title}"`,
        );
        // The tallest bar is the scale's maximum, written at the top left.
        const scale = clean(await page.locator('svg.chart > text').first().textContent());
        check(VND_FORMAT.test(scale), `the chart's scale reads ${scale}`);
      }
    }

    // Flagged payments.
    const flags = await page.locator('div.flag').evaluateAll((divs) =>
      divs.map((d) => ({ text: d.querySelector('p').textContent.replace(/\s+/g, ' ').trim(), flag: d.querySelector('strong')?.textContent.trim() })),
    );
    for (const want of opts.expect.flags || []) {
      const found = flags.find((f) => f.flag === want.flag && f.text.includes(want.payment_id));
      check(Boolean(found), `payment ${want.payment_id} is listed as ${want.flag}`, JSON.stringify(flags));
    }
    await desktopChecks(page, 'dashboard', { dashboard: true });
    await screenshot(page, '3-dashboard');

    // Resolve one flag with a note: the form posts, the service redirects back, the flag is gone.
    const r = opts.expect.resolve;
    if (r) {
      const item = page.locator('div.flag').filter({ hasText: r.payment_id }).filter({ hasText: r.flag });
      if ((await item.count()) !== 1) fatal(`one flag ${r.flag} for ${r.payment_id} to resolve`, `${await item.count()} found`);
      const note = item.getByLabel('Ghi chú xử lý / Resolution note');
      await note.fill(r.note);
      const [back] = await Promise.all([
        page.waitForResponse((x) => x.url() === financeUrl && x.request().method() === 'GET'),
        item.getByRole('button', { name: 'Đánh dấu đã xử lý / Mark resolved' }).click(),
      ]);
      await page.waitForLoadState('load');
      const redirect = back.request().redirectedFrom();
      check(
        redirect?.url() === `${financeUrl}/flags/resolve` && redirect?.method() === 'POST',
        'the note is posted to /finance/flags/resolve and redirected back',
        redirect ? `${redirect.method()} ${redirect.url()}` : 'no redirect',
      );
      check(back.status() === 200 && page.url() === financeUrl, 'the dashboard is shown again', `${back.status()} ${page.url()}`);
      const left = await page.locator('div.flag').filter({ hasText: r.payment_id }).count();
      const origin = redirect ? (await redirect.allHeaders()).origin : undefined;
      check(
        left === 0,
        `the ${r.flag} flag of ${r.payment_id} is no longer listed`,
        `${left} still listed (the form was posted with Origin: ${origin ?? '(none)'})`,
      );
      const heading = clean(await page.locator('h2', { hasText: 'Flagged payments' }).textContent());
      const remaining = (opts.expect.flags || []).length - 1;
      if (remaining >= 0) {
        check(heading.endsWith(`(${remaining})`), `the heading counts ${remaining} open flag(s)`, `"${heading}"`);
      }
      await screenshot(page, '4-resolved');
    }
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
  if (opts.portal) await run('portal token refused', refusedJourney);
  await run('dashboard', dashboardJourney);
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
  console.error(`\nfinance_dashboard: FAILED — ${failures.length} check(s):`);
  for (const f of failures) console.error(`  - ${f}`);
  console.error(`screenshots: ${opts.screenshots}`);
  process.exit(1);
}
console.log(`\nfinance_dashboard: all checks passed; screenshots in ${opts.screenshots}`);
