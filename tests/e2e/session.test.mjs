// End-to-end, an idle session ending in the browser (run.sh runs it last,
// with sandhostd restarted with session_idle=E2E_SESSION_IDLE seconds): a
// page left alone for longer than that shows the login page with the
// reason on its next navigation, the old cookie is refused by the API, and
// logging in again works. Same environment as portal.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { URL_, cred, problems, useBrowser, newPage, shot, gotoLogin, login, submitLogin, apiJson, visit, audit, seriousA11y } from './lib.mjs';

const require = createRequire(import.meta.url);
const { request } = require(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');
const ALICE = cred('E2E_ALICE');
const IDLE = Number(process.env.E2E_SESSION_IDLE);
useBrowser('session');

test('an idle session ends: the next navigation shows the login page and why, the old cookie is refused, a new login works', async () => {
  assert.ok(IDLE >= 1, 'set E2E_SESSION_IDLE to sandhostd\'s session_idle');
  const page = await newPage('alice-idle');
  await gotoLogin(page);
  await login(page, ALICE);
  // A page that does not poll: the session is left idle.
  await visit(page, 'tokens');
  await page.locator('h1', { hasText: 'API tokens' }).waitFor();
  const old = (await page.context().cookies()).find(c => c.httpOnly && c.secure);
  assert.ok(old, 'a session cookie was set');
  const asked = [];
  const onRequest = r => { if (new URL(r.url()).pathname.startsWith('/1.0')) asked.push(r.url()); };
  page.on('request', onRequest);
  // sandhostd ends a session once session_idle seconds passed since its
  // last_seen, which is never later than the last request (it is written
  // every session_idle/4 s at most): IDLE + 2 s without a request are more
  // than enough, whatever the moment of the last write.
  await page.waitForTimeout((IDLE + 2) * 1000);
  page.off('request', onRequest);
  assert.deepEqual(asked, [], 'the page sent nothing while idle');

  // A navigation: the page's request is refused, the login page says why.
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByLabel('Name', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => location.hash), '#/login');
  assert.match(await page.locator('.login-box .notice').innerText(), /session has expired/);
  assert.equal(await page.locator('#logout').count(), 0, 'no Log out button: nobody is logged in');
  await shot(page, 'session-expired');
  await audit(page, 'login: session expired');

  // The old cookie, sent by another client: refused.
  const other = await request.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: { Cookie: `${old.name}=${old.value}` } });
  try {
    const r = await other.get(`${URL_}/1.0/containers`);
    assert.equal(r.status(), 401, 'the API refuses the old session');
    assert.equal((await r.json()).error?.code, 'session_expired');
  } finally {
    await other.dispose();
  }

  // Logging in again: back on the page the navigation asked for.
  assert.equal(await submitLogin(page, ALICE), null, 'alice logs in again');
  await page.locator('h1', { hasText: 'Account' }).waitFor();
  assert.equal((await apiJson(page, '/1.0/auth/session')).user.name, ALICE.name);
  const fresh = (await page.context().cookies()).find(c => c.name === old.name);
  assert.notEqual(fresh?.value, old.value, 'a new session');
  await page.context().close();
});

test('no CSP violation, page error or dialog anywhere', () => {
  assert.deepEqual(problems, []);
});

test('no serious or critical accessibility violation on the page audited (axe-core)', () => {
  assert.deepEqual(seriousA11y(), []);
});
