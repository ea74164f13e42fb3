#!/usr/bin/env node
// First page loads of the portal in Debian's chromium (playwright-core),
// timed by the page itself (navigation timing and performance.now(), all
// relative to the navigation's start), so that Playwright's own round trips
// are not in the figures. run.sh starts sandhostd and the portal and calls it
// in the benchmark's network namespace. Environment:
//   PL_URL       the portal (https://127.0.0.1:8443)
//   PL_USER      "name:password" of a tenant owner whose tenant has PL_ROWS containers
//   PL_ROWS      the number of rows the container list must show
//   PL_RUNS      loads of each kind (default 10)
//   PL_LOGINS    UI logins to time (default 5; the portal allows a burst of 10
//                logins per client address, then one per 6 s)
//   PLAYWRIGHT_CORE, CHROMIUM   the module and the browser
// Prints a markdown table (median and min-max of each figure, ms) and, with
// PL_JSON set, writes every sample there (with each load's resources:
// [path, bytes transferred, start ms, end ms]).
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
const URL_ = process.env.PL_URL ?? 'https://127.0.0.1:8443';
const [NAME, ...pw] = (process.env.PL_USER ?? '').split(':');
const PASSWORD = pw.join(':');
const ROWS = Number(process.env.PL_ROWS ?? 1000);
const RUNS = Number(process.env.PL_RUNS ?? 10);
const LOGINS = Number(process.env.PL_LOGINS ?? 5);
if (!NAME || !PASSWORD) {
  console.error('pageload.mjs: PL_USER must be "name:password"');
  process.exit(2);
}

// In the page from its first script on: when the list's ROWS rows are in
// the DOM, the next frame after that, and when the login form was submitted.
function probe(rows) {
  window.__pl = {};
  const seen = () => {
    if (window.__pl.rows === undefined && document.querySelectorAll('main tbody tr').length >= rows) {
      window.__pl.rows = performance.now();
      requestAnimationFrame(() => { window.__pl.frame = performance.now(); });
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
  document.addEventListener('submit', () => { window.__pl.submit = performance.now(); }, true);
}

function navTiming(page) {
  return page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const bytes = performance.getEntriesByType('resource').reduce((s, r) => s + r.transferSize, n.transferSize);
    const res = performance.getEntriesByType('resource').map(r => [new URL(r.name).pathname + new URL(r.name).search, r.transferSize,
      Math.round(r.startTime), Math.round(r.responseEnd)]);
    return { responseStart: n.responseStart, domContentLoaded: n.domContentLoadedEventEnd, loadEventEnd: n.loadEventEnd, bytes, res };
  });
}

async function waitLoaded(page) {
  await page.waitForFunction(() => performance.getEntriesByType('navigation')[0]?.loadEventEnd > 0);
}

async function listShown(page) {
  await page.waitForFunction(() => window.__pl.frame !== undefined, undefined, { timeout: 60000 });
  const got = await page.evaluate(() => ({ ...window.__pl, count: document.querySelectorAll('main tbody tr').length }));
  if (got.count !== ROWS) throw new Error(`the container list shows ${got.count} rows, not ${ROWS}`);
  return got;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const out = { rows: ROWS, runs: RUNS, logins: 0, login_page_cold: [], login_page_warm: [], login_to_list: [], list_cold: [],
  list_warm: [] };
const newPage = async (ctx) => {
  const page = await ctx.newPage();
  await page.addInitScript(probe, ROWS);
  page.on('pageerror', e => { console.error(`pageload.mjs: page error: ${e.message}`); process.exitCode = 1; });
  return page;
};
try {
  // The login page, cold: a new context each time (empty cache, no cookie).
  // Then the same page loaded again in that context: warm (cached assets).
  let state = null;
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } });
    const page = await newPage(ctx);
    await page.goto(`${URL_}/`);
    await page.getByLabel('Name').waitFor();
    await waitLoaded(page);
    const cold = await navTiming(page);
    out.login_page_cold.push(cold);
    await page.reload();
    await page.getByLabel('Name').waitFor();
    await waitLoaded(page);
    out.login_page_warm.push(await navTiming(page));
    // Log in through the form (a few times only: the portal's login rate
    // limit), timed from the submit to the list's rows on screen.
    if (i < LOGINS) {
      await page.getByLabel('Name').fill(NAME);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      const got = await listShown(page);
      out.login_to_list.push({ rows: got.rows - got.submit, frame: got.frame - got.submit });
      out.logins++;
      if (!state) state = await ctx.storageState();
    }
    await ctx.close();
  }
  // The container list opened with a session cookie: cold (a new context with
  // the cookie and an empty cache), then reloaded in that context (warm).
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 }, storageState: state });
    const page = await newPage(ctx);
    await page.goto(`${URL_}/#/containers`);
    let got = await listShown(page);
    const cold = await navTiming(page);
    out.list_cold.push({ ...cold, rows: got.rows, frame: got.frame });
    await page.reload();
    got = await listShown(page);
    out.list_warm.push({ ...(await navTiming(page)), rows: got.rows, frame: got.frame });
    await ctx.close();
  }
  out.chromium = browser.version();
} finally {
  await browser.close();
}
if (process.env.PL_JSON) writeFileSync(process.env.PL_JSON, JSON.stringify(out, null, 1) + '\n');

// "median (min-max)" of one field over samples; "–" when a kind has none.
function spread(samples, field) {
  const v = samples.map(s => s[field]).filter(x => x !== undefined).sort((a, b) => a - b);
  if (!v.length) return '–';
  const med = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  const f = x => (field === 'bytes' ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
  return `${f(med)} (${f(v[0])}–${f(v[v.length - 1])})`;
}
const kinds = [
  ['login page, cold (new context)', out.login_page_cold],
  ['login page, warm (reload)', out.login_page_warm],
  [`container list, cold (new context with the session cookie)`, out.list_cold],
  ['container list, warm (reload)', out.list_warm],
  ['log in: submit to the list', out.login_to_list],
];
console.log(`| load | runs | responseStart | DOMContentLoaded end | loadEventEnd | ${ROWS} rows in the DOM | next frame | bytes transferred |`);
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, s] of kinds)
  console.log(`| ${name} | ${s.length} | ${['responseStart', 'domContentLoaded', 'loadEventEnd', 'rows', 'frame', 'bytes'].map(f => spread(s, f)).join(' | ')} |`);
console.log(`\nms from the navigation's start (the last row: from the form's submit), median (min–max); chromium ${out.chromium}`);
