#!/usr/bin/env node
// The national rails in a real browser: Debian's headless Chromium driven by playwright-core.
// Run by tests/api/rails_browser.rs; can also be run by hand against a running service with the
// DVCQG and PayGov simulators enabled:
//
//   node tests/browser/rails_flow.mjs --dvcqg 'http://…/pay/pay_…?t=…' --paygov 'http://…/pay/pay_…?t=…' \
//        [--screenshots DIR] [--chromium /usr/bin/chromium]
//
// Journeys: --dvcqg (pay page → "Cổng DVCQG" → the platform simulator's Pay → "Thanh toán thành
// công"), --paygov (pay page → "PayGov" → the simulator's Pay → "Đang xử lý thanh toán": a
// browser return never records money). Every request stays on the service's origin.
// Exit status: 0 when every check passed; 1 with a list of failures; 2 for bad usage.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const opts = {
  dvcqg: undefined,
  paygov: undefined,
  screenshots: path.join(HERE, 'screenshots'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in opts) || i + 1 >= argv.length) {
    console.error(`rails_flow: bad argument ${argv[i]}`);
    process.exit(2);
  }
  opts[key] = argv[i + 1];
}
if (!opts.dvcqg && !opts.paygov) {
  console.error('rails_flow: give --dvcqg and/or --paygov');
  process.exit(2);
}

const failures = [];
function check(ok, what, detail = '') {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures.push(`${what}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

fs.mkdirSync(opts.screenshots, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'landpay-rails-'));
const watchdog = setTimeout(() => {
  console.error('rails_flow: FAILED — gave up after 120 s');
  process.exit(1);
}, 120_000);

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: opts.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  viewport: { width: 360, height: 780 },
  locale: 'vi-VN',
});
context.setDefaultTimeout(15_000);

const origins = new Set();
context.on('request', (req) => origins.add(new URL(req.url()).origin));

async function journey(name, payUrl, button, sandboxPath, heading) {
  console.log(`${name}:`);
  const page = await context.newPage();
  page.on('response', (res) => {
    if (res.status() >= 400) check(false, 'no HTTP errors', `${res.url()} → ${res.status()}`);
  });
  await page.goto(payUrl);
  await page.getByRole('button', { name: button, exact: true }).click();
  await page.waitForURL((u) => u.pathname === sandboxPath);
  check(true, `the ${name} simulator's page`);
  check((await page.locator('#sandbox-amount').textContent()).trim().endsWith('đ'), 'the amount is shown');
  await page.screenshot({ path: path.join(opts.screenshots, `rails-${name}-sandbox.png`), fullPage: true });
  await page.locator('#sandbox-pay').click();
  await page.waitForURL((u) => u.pathname.endsWith('/result'));
  const h1 = (await page.locator('h1').first().textContent()).trim();
  check(h1 === heading, `the result page says "${heading}"`, h1);
  await page.screenshot({ path: path.join(opts.screenshots, `rails-${name}-result.png`), fullPage: true });
  await page.close();
}

try {
  const origin = new URL(opts.dvcqg || opts.paygov).origin;
  if (opts.dvcqg) {
    await journey('dvcqg', opts.dvcqg, 'Cổng DVCQG', '/sandbox/dvcqg/pay', 'Thanh toán thành công');
  }
  if (opts.paygov) {
    await journey('paygov', opts.paygov, 'PayGov', '/sandbox/paygov/pay', 'Đang xử lý thanh toán');
  }
  check([...origins].every((o) => o === origin), 'every request stays on the service', [...origins].join(' '));
} catch (e) {
  check(false, 'the journey ran to its end', String(e));
} finally {
  await context.close();
  clearTimeout(watchdog);
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (failures.length) {
  console.error(`rails_flow: FAILED\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  process.exit(1);
}
console.log('rails_flow: passed');
