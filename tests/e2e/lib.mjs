// What the e2e files share: the browser, pages that record CSP violations
// and page errors, screenshots, logging in through the form (waiting out
// the portal's per-address login rate limit), the API with the page's
// session, axe-core's accessibility audit of a page, and RFC 6238 codes. Each test file is its own process: the
// state here is per file. Environment: see portal.test.mjs.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');

export const URL_ = process.env.E2E_URL ?? 'https://127.0.0.1:8443';
export const ART = process.env.E2E_ARTIFACTS ?? join(process.cwd(), 'e2e-artifacts');
export const DOCS = process.env.E2E_DOCS_IMG;
export const cred = v => { const s = process.env[v]; assert.ok(s, `set ${v}=name:password`); const i = s.indexOf(':'); return { name: s.slice(0, i), password: s.slice(i + 1) }; };
export const SUFFIX = String(process.pid);
mkdirSync(ART, { recursive: true });
if (DOCS) mkdirSync(DOCS, { recursive: true });

let browser;
let prefix = 'e2e';
const log = [];              // every console message and page error, for the artifact log
export const problems = [];  // CSP violations, page errors, dialogs: each fails the run
export const audits = [];    // audit(): per page, how many rules axe ran and what it found
const ruleIds = new Set();   // every rule axe ran on some page

// useBrowser(name): launches chromium for this file; screenshots and the
// browser log of the file are named after it.
export function useBrowser(name) {
  prefix = name;
  before(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  after(async () => {
    writeFileSync(join(ART, `${prefix}-browser.log`), log.join('\n') + '\n');
    writeFileSync(join(ART, `${prefix}-axe.json`), JSON.stringify({ axe: axeVersion, tags: AXE_TAGS, rules: [...ruleIds].sort(), pages: audits }, null, 1) + '\n');
    await browser?.close();
  });
}

export async function newPage(who, viewport = { width: 1200, height: 800 }) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport });
  const page = await ctx.newPage();
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', e => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  });
  page.on('console', m => {
    log.push(`[${who}] ${m.type()}: ${m.text()}`);
    if (/CSP violation|Content Security Policy|Refused to/i.test(m.text())) problems.push(`${who}: ${m.text()}`);
  });
  page.on('pageerror', e => { log.push(`[${who}] pageerror: ${e.message}`); problems.push(`${who}: page error ${e.message}`); });
  page.on('dialog', d => { problems.push(`${who}: a ${d.type()} dialog fired: ${d.message()}`); d.dismiss(); });
  return page;
}

let shots = 0;
export async function shot(page, name, docName) {
  const file = join(ART, `${prefix}-${String(++shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  // The guide's copies: the top of the page only, to keep docs/img small.
  if (DOCS && docName) await page.screenshot({ path: join(DOCS, `${docName}.png`), clip: { x: 0, y: 0, ...page.viewportSize(), height: Math.min(640, page.viewportSize().height) } });
  return file;
}

// axe-core, put into the page through the devtools protocol: the page's CSP
// (no unsafe-eval or inline scripts) does not apply to Runtime.evaluate, so
// the pages are audited under the CSP they are served with and any
// violation axe itself caused would still be reported.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
let axeSource, axeVersion;
// audit(page, name): axe's rules of AXE_TAGS on the page as it is now, and
// its contrast rules once more in the dark colour scheme; the result (every
// violation, of any impact, and the rules whose result axe left to a person)
// goes to the <file>-axe.json artifact, and seriousA11y() lists the
// violations of impact serious or critical.
export async function audit(page, name) {
  axeSource ??= readFileSync(process.env.AXE_CORE ?? require.resolve('axe-core/axe.min.js'), 'utf8');
  const cdp = await page.context().newCDPSession(page);
  try {
    const r = await cdp.send('Runtime.evaluate', { expression: `${axeSource}\n;axe.version` });
    assert.ok(!r.exceptionDetails, `axe-core loads in ${name}: ${r.exceptionDetails?.exception?.description}`);
    axeVersion = r.result.value;
  } finally {
    await cdp.detach();
  }
  const run = (only, scheme) => page.evaluate(async ([only, scheme]) => {
    const res = await window.axe.run(document, { runOnly: only, resultTypes: ['violations'] });
    return {
      rules: [...res.passes, ...res.incomplete, ...res.inapplicable, ...res.violations].map(x => x.id),
      incomplete: res.incomplete.map(x => x.id),
      violations: res.violations.map(v => ({
        id: v.id, impact: v.impact, scheme, help: v.help,
        nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })),
      })),
    };
  }, [only, scheme]);
  const found = await run({ type: 'tag', values: AXE_TAGS }, 'light');
  // The colours again in the dark scheme (app.css has one): contrast only.
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.ok(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), 'the dark scheme is on');
  const dark = await run({ type: 'rule', values: ['color-contrast', 'link-in-text-block'] }, 'dark').finally(() => page.emulateMedia({ colorScheme: 'light' }));
  for (const id of found.rules) ruleIds.add(id);
  audits.push({
    page: name, route: await page.evaluate(() => location.hash), rules: found.rules.length,
    needsReview: found.incomplete, violations: [...found.violations, ...dark.violations],
  });
}
export const seriousA11y = () => audits.flatMap(a => a.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${a.page}: ${v.id} (${v.impact}, ${v.scheme}) ${v.help}: ${v.nodes.map(n => n.target).join(', ')}`));

// Opens a route and draws it afresh (page.goto to the hash the page is on
// changes nothing: the SPA redraws on hashchange only).
export async function visit(page, route) {
  if (await page.evaluate(r => location.hash === `#/${r}`, route).catch(() => false)) await page.reload();
  else await page.goto(`${URL_}/#/${route}`);
}

export async function gotoLogin(page) {
  await page.goto(`${URL_}/#/login`);
  await page.getByLabel('Name', { exact: true }).waitFor();
}

// submitLogin(page, {name, password}, totp?): fills the login form the page
// shows and sends it; resolves to null once logged in, else to the refusal
// as the page shows it: {box, field} (the form's error line and the text at
// the field it names). A refusal by the portal's rate limit is waited out
// (the time it names) and the same login sent again.
export async function submitLogin(page, { name, password }, totp) {
  for (let attempt = 0; ; attempt++) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Password', { exact: true }).fill(password);
    if (totp !== undefined) await page.getByLabel('Code from your authenticator app').fill(totp);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    // The click ran the submit handler up to its request: earlier errors are cleared.
    await page.waitForFunction(() => !location.hash.startsWith('#/login') || !document.querySelector('.login .form-error').hidden, null, { timeout: 30_000 });
    if (!(await page.evaluate(() => location.hash.startsWith('#/login')))) {
      await page.locator('#logout').waitFor();
      return null;
    }
    const box = await page.locator('.login .form-error').innerText();
    const slot = page.locator('.login [data-error-for]:not([hidden])');
    const field = (await slot.count()) ? await slot.first().innerText() : '';
    const wait = /rate_limited/.test(box) && box.match(/try again in (\d+) s/);
    if (!wait || attempt >= 10) return { box, field };
    await page.waitForTimeout((Number(wait[1]) + 1) * 1000);
  }
}

export async function login(page, who) {
  if (!(await page.evaluate(() => location.hash.startsWith('#/login')).catch(() => false)) ||
      !(await page.getByLabel('Name', { exact: true }).isVisible().catch(() => false)))
    await gotoLogin(page);
  const refused = await submitLogin(page, who);
  assert.equal(refused, null, `${who.name} logs in`);
}

export async function logout(page) {
  await page.locator('#logout').click();
  await page.getByLabel('Name', { exact: true }).waitFor();
  assert.match(await page.locator('.notice').innerText(), /logged out/);
}

// The API with the page's session (cookie + the CSRF token it was given).
export async function apiCall(page, method, path, body, type = 'application/json') {
  return page.evaluate(async ([method, path, body, type]) => {
    const s = await (await fetch('/1.0/auth/session', { credentials: 'same-origin' })).json();
    const r = await fetch(path, { method, credentials: 'same-origin', headers: { 'Content-Type': type, 'X-CSRF-Token': s.csrf ?? '' }, body: body ?? undefined });
    return { status: r.status, text: await r.text() };
  }, [method, path, body, type]);
}
export const apiJson = async (page, path) => { const r = await apiCall(page, 'GET', path); assert.equal(r.status, 200, `GET ${path}: ${r.text}`); return JSON.parse(r.text); };

export async function stateIs(page, state) {
  await page.locator(`.page-head .badge.state-${state}`).waitFor({ timeout: 90_000 });
}

export async function waitOpsDone(page) {
  await page.waitForFunction(() => !document.querySelector('.op-sending, .op-pending, .op-running'), null, { timeout: 120_000 });
  const failed = await page.locator('.op-failure').allTextContents();
  assert.deepEqual(failed, [], 'no operation failed');
}

// Every status the operations list shows for `label` from now on, in order
// (a MutationObserver in the page: a state shorter than a poll is seen too).
export async function recordOp(page, label) {
  await page.evaluate(label => {
    const seen = (window.__opStatuses ??= {})[label] = [];
    const look = () => {
      for (const li of document.querySelectorAll('#ops li')) {
        if (li.querySelector('.op-label')?.textContent !== label) continue;
        const st = li.className.replace(/^op op-/, '');
        if (seen[seen.length - 1] !== st) seen.push(st);
      }
    };
    new MutationObserver(look).observe(document.getElementById('ops'), { subtree: true, childList: true, attributes: true, characterData: true });
  }, label);
  return () => page.evaluate(label => window.__opStatuses[label], label);
}

// RFC 6238 (SHA-1, 30 s, 6 digits) from a base32 secret, at unix time t.
export function totpCode(secret, t = Date.now() / 1000) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alpha.indexOf(ch);
    assert.ok(v >= 0, `base32 character ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map(b => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// A code the server cannot accept now (none of the steps around now).
export function wrongTotp(secret) {
  const now = Date.now() / 1000, near = new Set([-2, -1, 0, 1, 2].map(d => totpCode(secret, now + d * 30)));
  for (let i = 0; ; i++) { const c = String((123456 + i * 7919) % 1_000_000).padStart(6, '0'); if (!near.has(c)) return c; }
}
