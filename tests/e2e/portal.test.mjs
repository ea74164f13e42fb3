// End-to-end: the portal in Debian's chromium through playwright-core,
// against a real sandhostd and sandhost-portal (tests/e2e/run.sh starts
// them). Environment:
//   E2E_URL          the portal, e.g. https://127.0.0.1:8443
//   E2E_ARTIFACTS    where screenshots and the browser log go
//   E2E_DOCS_IMG     optional: also write the tenant guide's screenshots there
//   E2E_ADMIN, E2E_ALICE, E2E_BOB, E2E_AUDITOR   "name:password" of an admin,
//                    an owner of tenant A, an owner of tenant B, an auditor
//   PLAYWRIGHT_CORE  optional: the playwright-core module path
//   AXE_CORE         optional: axe-core's axe.min.js (audit(): the pages' accessibility)
//   E2E_SESSION_IDLE sandhostd's session_idle (session.test.mjs only)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { URL_, cred, SUFFIX, problems, useBrowser, newPage, shot, gotoLogin, submitLogin, login, apiCall, stateIs, waitOpsDone, recordOp, audit, audits, seriousA11y } from './lib.mjs';

const ALICE = cred('E2E_ALICE'), BOB = cred('E2E_BOB'), AUDITOR = cred('E2E_AUDITOR'), ADMIN = cred('E2E_ADMIN');
const WEB = `web-${SUFFIX}`;
const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';
// An ed25519 public key as OpenSSH writes it (its blob names its type).
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f e2e@portal';
useBrowser('portal');

// The terminal's text as xterm's DOM renderer shows it.
const screenText = page => page.locator('.xterm-rows').innerText();

let alice, aliceId, bobCt;

test('log in, with a wrong password first', async () => {
  alice = await newPage('alice');
  await gotoLogin(alice);
  await shot(alice, 'login', 'login');
  await audit(alice, 'login');
  const refused = await submitLogin(alice, { ...ALICE, password: `${ALICE.password}-wrong` });
  assert.match(refused?.box ?? '', /bad_credentials/);
  await login(alice, ALICE);
  assert.equal(await alice.locator('h1').innerText(), 'Containers');
});

test('create a container: refusals shown as text, then made', async () => {
  await alice.getByRole('link', { name: 'Create a container' }).click();
  await alice.getByLabel('Name').waitFor();
  await shot(alice, 'create');
  await audit(alice, 'create');
  // HTML in the name: the server refuses it; its message is text, not markup.
  await alice.getByLabel('Name').fill(XSS);
  await alice.getByRole('button', { name: 'Create', exact: true }).click();
  const err = alice.locator('[data-error-for="name"]:not([hidden])');
  await err.waitFor();
  assert.match(await err.innerText(), /name/);
  assert.equal(await alice.locator('main img, main script').count(), 0, 'no element made from the name');
  // Above the plan: the quota refusal names the field.
  await alice.getByLabel('Name').fill(WEB);
  await alice.getByLabel('Memory (MiB)').fill('999999');
  await alice.getByRole('button', { name: 'Create', exact: true }).click();
  await alice.locator('[data-error-for="memory_mib"]:not([hidden])').waitFor();
  assert.match(await alice.locator('[data-error-for="memory_mib"]').innerText(), /quota_exceeded|memory_mib/);
  await shot(alice, 'create-refused', 'create-refused');
  await audit(alice, 'create refused');
  await alice.getByLabel('Memory (MiB)').fill('');
  // A bad second key line: refused at the keys' field, naming the line.
  const keys = alice.getByLabel('SSH public keys (optional)');
  await keys.fill(`${KEY}\nssh-ed25519 not-base64!`);
  await alice.getByRole('button', { name: 'Create', exact: true }).click();
  const keyErr = alice.locator('[data-error-for="ssh_authorized_keys"]:not([hidden])');
  await keyErr.waitFor();
  assert.match(await keyErr.innerText(), /ssh_authorized_keys: line 2: its data is not base64/);
  await keys.fill(KEY);
  await alice.getByRole('button', { name: 'Create', exact: true }).click();
  await alice.waitForFunction(() => /^#\/containers\/\d+/.test(location.hash), null, { timeout: 120_000 });
  aliceId = Number((await alice.evaluate(() => location.hash)).match(/\d+/)[0]);
  await stateIs(alice, 'stopped');
  // The key came with the create: the container's root has it.
  const ak = await apiCall(alice, 'GET', `/1.0/containers/${aliceId}/files?path=/root/.ssh/authorized_keys`);
  assert.equal(ak.status, 200, ak.text);
  assert.equal(ak.text, `${KEY}\n`);
  const st = JSON.parse((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}/files?path=/root/.ssh/authorized_keys&stat=1`)).text);
  assert.deepEqual([st.mode, st.uid, st.gid], ['0600', 0, 0], 'mode 0600, owned by the container\'s root');
  await shot(alice, 'container-overview');
  await audit(alice, 'container overview');
});

test('start it; the list shows it running', async () => {
  await alice.getByRole('button', { name: 'Start', exact: true }).click();
  await waitOpsDone(alice);
  await stateIs(alice, 'running');
  await alice.goto(`${URL_}/#/containers`);
  const row = alice.locator('tr', { hasText: WEB });
  await row.locator('.state-running').waitFor();
  await shot(alice, 'containers', 'containers');
  await audit(alice, 'containers');
});

// The focused element: what it is, and whether its focus shows (the page's
// :focus-visible outline, at least 2 px).
const focused = page => page.evaluate(() => {
  const el = document.activeElement;
  const cs = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), name: el.getAttribute('name'), text: el.textContent.trim().slice(0, 60), href: el.getAttribute('href'),
    inDialog: !!el.closest('dialog[open]'),
    shown: el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
  };
});
// Tab until `want(focused)`; every stop on the way shows its focus.
async function tabTo(page, what, want) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.tag !== 'body') assert.ok(f.shown, `the focus on ${f.tag} "${f.text}" is visible`);
    if (want(f)) return f;
  }
  assert.fail(`${what} is not reached with Tab`);
}

test('keyboard only: log in, reach the container, open Delete\'s confirmation; focus stays in it and comes back', async () => {
  const kb = await newPage('keyboard');
  await gotoLogin(kb);
  // The page's heading has the focus; the form follows it.
  assert.equal((await focused(kb)).tag, 'h1');
  await tabTo(kb, 'the name field', f => f.name === 'name');
  await kb.keyboard.type(ALICE.name);
  await tabTo(kb, 'the password field', f => f.name === 'password');
  await kb.keyboard.type(ALICE.password);
  await kb.keyboard.press('Enter');
  await kb.waitForFunction(() => location.hash === '#/containers' && document.activeElement?.tagName === 'H1', null, { timeout: 30_000 });
  await kb.locator('tr', { hasText: WEB }).waitFor();
  // The menu first, then the page: the container's link, opened with Enter.
  await tabTo(kb, 'the Containers menu link', f => f.href === '#/containers');
  await tabTo(kb, `the link to ${WEB}`, f => f.href === `#/containers/${aliceId}`);
  await kb.keyboard.press('Enter');
  await kb.waitForFunction(id => location.hash === `#/containers/${id}` && document.activeElement?.tagName === 'H1', aliceId);
  await stateIs(kb, 'running');
  // Its tabs are links: Space does not follow a link, Enter does.
  await tabTo(kb, 'the Usage tab', f => f.href === `#/containers/${aliceId}/usage`);
  await kb.keyboard.press('Enter');
  await kb.waitForFunction(id => location.hash === `#/containers/${id}/usage`, aliceId);
  assert.equal(await kb.locator('.tabs a[aria-current="page"]').innerText(), 'Usage');
  // The new tab's heading has the focus; the actions follow it: Delete, opened with Space.
  await tabTo(kb, 'the Delete button', f => f.tag === 'button' && f.text === 'Delete');
  await kb.keyboard.press('Space');
  const dialog = kb.locator('dialog[open]');
  await dialog.waitFor();
  assert.deepEqual(await focused(kb).then(f => [f.inDialog, f.text]), [true, 'Cancel'], 'the dialog\'s Cancel has the focus');
  await audit(kb, 'delete confirmation (keyboard)');
  // Tab and Shift+Tab go round inside the dialog.
  const round = [];
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab']) {
    await kb.keyboard.press(key);
    const f = await focused(kb);
    assert.ok(f.inDialog && f.shown, `${key}: the focus is visible and in the dialog (${f.tag} "${f.text}")`);
    round.push(f.text);
  }
  assert.deepEqual(round, ['Delete', 'Cancel', 'Delete', 'Cancel', 'Delete']);
  await shot(kb, 'keyboard-dialog');
  // Esc: closed, nothing done, the focus back on the page's Delete.
  await kb.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  const back = await focused(kb);
  assert.deepEqual([back.tag, back.text, back.inDialog], ['button', 'Delete', false], 'the focus is back on Delete');
  assert.equal(JSON.parse((await apiCall(kb, 'GET', `/1.0/containers/${aliceId}`)).text).state, 'running', 'nothing was deleted');
  await kb.context().close();
});

// A change that takes an operation, from the container page: its status in
// the operations list while pending (screenshot), then success.
async function operateFromPage(page, button, label, confirm) {
  const statuses = await recordOp(page, label);
  await page.getByRole('button', { name: button, exact: true }).click();
  if (confirm) await page.locator('dialog').getByRole('button', { name: confirm, exact: true }).click();
  const item = page.locator('#ops li', { hasText: label });
  await item.waitFor();
  await shot(page, `${button.toLowerCase()}-pending`);
  await item.locator('.op-status', { hasText: 'success' }).waitFor({ timeout: 120_000 });
  const seen = await statuses();
  assert.ok(seen.some(s => ['sending', 'pending', 'running'].includes(s)), `a pending state was shown (${seen})`);
  assert.equal(seen.at(-1), 'success');
}

test('restart from the container page: pending, then running with a new init', async () => {
  const before = JSON.parse((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}`)).text);
  assert.equal(before.state, 'running');
  await alice.goto(`${URL_}/#/containers/${aliceId}`);
  await stateIs(alice, 'running');
  await operateFromPage(alice, 'Restart', `restart ${WEB}`);
  await stateIs(alice, 'running');
  const after = JSON.parse((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}`)).text);
  assert.equal(after.state, 'running');
  assert.ok(after.pid && after.pid !== before.pid, `a new init (${before.pid} -> ${after.pid})`);
  // The overview shows it too.
  assert.equal((await alice.locator('dt:text-is("Init pid") + dd').innerText()).trim(), String(after.pid));
  await shot(alice, 'restart-done');
});

test('console: id and hostname, under the CSP', async () => {
  await alice.goto(`${URL_}/#/containers/${aliceId}/console`);
  await alice.locator('.console-status', { hasText: 'Connected' }).waitFor({ timeout: 30_000 });
  await alice.locator('.xterm-helper-textarea').focus();
  await alice.keyboard.type('id; hostname\n');
  await alice.waitForFunction(name => {
    const t = document.querySelector('.xterm-rows')?.innerText ?? '';
    return t.includes('uid=0(root)') && t.split('\n').some(l => l.trim() === name);
  }, WEB, { timeout: 20_000 });
  const text = await screenText(alice);
  assert.match(text, /uid=0\(root\) gid=0\(root\)/);
  assert.ok(text.split('\n').some(l => l.trim() === WEB), `hostname ${WEB} on the screen`);
  // xterm's own <style> elements carry the page's nonce.
  const styles = await alice.evaluate(() => [...document.querySelectorAll('style')].map(s => s.nonce || s.getAttribute('nonce')));
  assert.ok(styles.length > 0 && styles.every(Boolean), 'every <style> has the nonce');
  await shot(alice, 'console', 'console');
  await audit(alice, 'console');
  await alice.keyboard.type('exit\n');
  await alice.locator('.console-status', { hasText: 'exited with status 0' }).waitFor();
});

test('usage graphs have data points', async () => {
  await alice.goto(`${URL_}/#/containers/${aliceId}/usage`);
  let points = 0;
  for (let i = 0; i < 30 && points < 2; i++) {
    await alice.locator('#usage-period').selectOption('5m');
    // The charts of this choice, drawn (a change replaces them).
    await alice.waitForFunction(() => !document.querySelector('.charts .loading') && document.querySelectorAll('.charts canvas.chart[data-drawn]').length === 4);
    points = Number(await alice.locator('canvas.chart').nth(2).getAttribute('data-points'));
    if (points < 2) await alice.waitForTimeout(2000), await alice.reload();
  }
  assert.ok(points >= 2, `the disk chart (one series) has ${points} points`);
  // CPU is a rate over the time between samples: a point, and a number.
  const cpu = alice.locator('canvas.chart').nth(0);
  assert.ok(Number(await cpu.getAttribute('data-points')) >= 1, 'the CPU chart has a point');
  assert.match(await cpu.getAttribute('aria-label'), /^CPU \(CPUs in use\): cpu up to (\d|\.)[\d.e+-]*$/);
  // The canvas has ink in the series colour, not just axes.
  await alice.locator('canvas.chart[data-drawn]').nth(2).waitFor();
  await shot(alice, 'usage', 'usage');
  await audit(alice, 'container usage');
  const blue = await alice.locator('canvas.chart').nth(2).evaluate(c => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 200 && d[i] < 80 && d[i + 3] > 200) n++;
    return n;
  });
  assert.ok(blue > 0, 'the series is drawn');
  // A refresh is one request for the container's buckets of the period.
  const asked = [];
  const onRequest = r => { if (new URL(r.url()).pathname === '/1.0/usage') asked.push(new URL(r.url()).searchParams); };
  alice.on('request', onRequest);
  await alice.locator('#usage-period').selectOption('1h');
  await alice.waitForFunction(() => !document.querySelector('.charts .loading') && document.querySelectorAll('.charts canvas.chart[data-drawn]').length === 4);
  alice.off('request', onRequest);
  assert.equal(asked.length, 1, `one request per refresh (${asked.map(String)})`);
  assert.equal(asked[0].get('container'), String(aliceId));
  assert.equal(asked[0].get('step'), '120');
  assert.ok(Number(await alice.locator('canvas.chart').nth(2).getAttribute('data-points')) >= 1, 'the hour has the disk samples too');
});

test('snapshot and restore bring a file back', async () => {
  const put = body => apiCall(alice, 'PUT', `/1.0/containers/${aliceId}/files?path=/marker`, body, 'application/octet-stream');
  assert.ok([200, 201].includes((await put('before\n')).status));
  await alice.goto(`${URL_}/#/containers/${aliceId}/snapshots`);
  await alice.getByLabel('Snapshot name').fill('snap1');
  await alice.getByRole('button', { name: 'Take snapshot', exact: true }).click();
  await alice.locator('td', { hasText: 'snap1' }).waitFor({ timeout: 60_000 });
  assert.equal((await put('after\n')).status, 200);
  await alice.getByRole('button', { name: 'Stop', exact: true }).click();
  await waitOpsDone(alice);
  await stateIs(alice, 'stopped');
  await alice.getByRole('button', { name: 'Restore snap1', exact: true }).click();
  await alice.locator('dialog').getByRole('button', { name: 'Restore', exact: true }).click();
  await waitOpsDone(alice);
  const got = await apiCall(alice, 'GET', `/1.0/containers/${aliceId}/files?path=/marker`);
  assert.equal(got.text, 'before\n');
  await shot(alice, 'snapshots', 'snapshots');
  await audit(alice, 'snapshots');
});

test('rebuild from the container page: pending, then a fresh copy of the image, snapshots kept', async () => {
  await alice.goto(`${URL_}/#/containers/${aliceId}`);
  await stateIs(alice, 'stopped');
  await operateFromPage(alice, 'Rebuild', `rebuild ${WEB}`, 'Rebuild');
  await stateIs(alice, 'stopped');
  assert.equal((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}/files?path=/marker`)).status, 404, 'the file made since the image is gone');
  assert.ok(JSON.parse((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}/snapshots`)).text).snapshots.some(x => x.name === 'snap1'), 'snap1 kept');
  await shot(alice, 'rebuild-done');
});

test('policy: saved, a server error shown at its line, a comment kept as text', async () => {
  await alice.goto(`${URL_}/#/containers/${aliceId}/policy`);
  const text = alice.getByLabel('Policy text');
  await text.fill(`default out allow\n# ${XSS}\nallow in tcp any port 80\n`);
  await alice.getByRole('button', { name: 'Save policy', exact: true }).click();
  await alice.locator('.form-status', { hasText: 'Saved.' }).waitFor();
  await text.fill('default in deny\nallow in tcp any port 80\nallow in tcp any port 70000\n');
  await alice.getByRole('button', { name: 'Save policy', exact: true }).click();
  const err = alice.locator('[data-error-for="policy"]:not([hidden])');
  await err.waitFor();
  assert.match(await err.innerText(), /line 3/);
  assert.equal((await alice.locator('.gutter .bad-line').innerText()).trim(), '3');
  await shot(alice, 'policy-error', 'policy');
  await audit(alice, 'policy with an error');
  await alice.reload();
  await text.waitFor();
  assert.equal(await text.inputValue(), `default out allow\n# ${XSS}\nallow in tcp any port 80\n`);
  assert.equal(await alice.locator('main img, main script').count(), 0);
});

test('tenant separation: B\'s container is not A\'s to see', async () => {
  const bob = await newPage('bob');
  await login(bob, BOB);
  await bob.getByRole('link', { name: 'Create a container' }).click();
  await bob.getByLabel('Name').fill(`bweb-${SUFFIX}`);
  await bob.getByRole('button', { name: 'Create', exact: true }).click();
  await bob.waitForFunction(() => /^#\/containers\/\d+/.test(location.hash), null, { timeout: 120_000 });
  bobCt = Number((await bob.evaluate(() => location.hash)).match(/\d+/)[0]);
  await alice.goto(`${URL_}/#/containers`);
  await alice.locator('tr', { hasText: WEB }).waitFor();
  assert.equal(await alice.locator('tr', { hasText: `bweb-${SUFFIX}` }).count(), 0, 'B\'s container is not in A\'s list');
  await alice.goto(`${URL_}/#/containers/${bobCt}`);
  await alice.locator('h1', { hasText: 'Container not found' }).waitFor();
  assert.match(await alice.locator('main .error').innerText(), /404/);
  for (const p of [`/1.0/containers/${bobCt}`, `/1.0/containers/${bobCt}/policy`, `/1.0/containers/${bobCt}/snapshots`])
    assert.equal((await apiCall(alice, 'GET', p)).status, 404, p);
  assert.equal((await apiCall(alice, 'PUT', `/1.0/containers/${bobCt}/state`, '{"action":"start"}')).status, 404);
  await shot(alice, 'not-found');
  await audit(alice, 'container not found');
  await bob.getByRole('button', { name: 'Delete', exact: true }).click();
  await bob.locator('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await bob.waitForFunction(() => location.hash === '#/containers', null, { timeout: 120_000 });
  await bob.context().close();
});

test('tenant pages: usage, tokens (shown once, revoked), audit trail, account, phone width', async () => {
  await alice.goto(`${URL_}/#/usage`);
  await alice.locator('td a', { hasText: WEB }).first().waitFor();
  await shot(alice, 'usage-table');
  await audit(alice, 'usage');
  await alice.goto(`${URL_}/#/tokens`);
  await alice.getByLabel('Token name').fill(`cli-${SUFFIX}`);
  await alice.getByRole('button', { name: 'Create token', exact: true }).click();
  await alice.locator('#token-secret').waitFor();
  assert.match(await alice.locator('#token-secret').innerText(), /^sht_/);
  await shot(alice, 'tokens', 'tokens');
  await audit(alice, 'tokens with a new secret');
  await alice.getByRole('button', { name: `Revoke cli-${SUFFIX}` }).click();
  await alice.locator('dialog').getByRole('button', { name: 'Revoke', exact: true }).click();
  await alice.getByRole('button', { name: `Revoke cli-${SUFFIX}` }).waitFor({ state: 'detached' });
  await alice.goto(`${URL_}/#/audit`);
  await alice.getByLabel('Search').fill('policy');
  await alice.locator('td', { hasText: `/1.0/containers/${aliceId}/policy` }).first().waitFor();
  await shot(alice, 'audit', 'audit');
  await audit(alice, 'audit log');
  await alice.goto(`${URL_}/#/account`);
  await alice.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  await shot(alice, 'account', 'account');
  await audit(alice, 'account');
  const phone = await newPage('alice-phone', { width: 375, height: 740 });
  await login(phone, ALICE);
  await phone.locator('tr', { hasText: WEB }).waitFor();
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no sideways scrolling at 375 px (${width})`);
  await shot(phone, 'phone-containers', 'phone');
  await audit(phone, 'containers at phone width');
  await phone.context().close();
});

test('admin pages', async () => {
  const admin = await newPage('admin');
  await login(admin, ADMIN);
  for (const [route, h1] of [['admin/tenants', 'Tenants'], ['admin/users', 'Users'], ['admin/plans', 'Plans'], ['admin/images', 'Images'], ['admin/host', 'Host']]) {
    await admin.goto(`${URL_}/#/${route}`);
    await admin.locator('h1', { hasText: h1 }).waitFor();
    await admin.locator('main table, main .empty').first().waitFor();
    await shot(admin, route.replace('/', '-'));
    await audit(admin, route);
  }
  assert.match(await admin.locator('main').innerText(), /sandhostd\s*up/);
  const capacity = await admin.locator('#host-capacity').innerText();
  assert.match(capacity, /CPUs\s*[1-9]/, 'the host page shows the host\'s cpus');
  assert.match(capacity, /Storage pool\s*[\d.]+ \S+ of [\d.]+ \S+ used \(\d+%\)/, 'and the storage pool\'s use');
  await admin.context().close();
});

test('auditor pages: the report with findings, a searchable log', async () => {
  const aud = await newPage('auditor');
  await login(aud, AUDITOR);
  await aud.locator('h1', { hasText: 'Audit report' }).waitFor();
  await aud.locator('.summary').waitFor({ timeout: 60_000 });
  assert.ok(await aud.locator('td .badge[class*="sev-"]').count() > 0, 'findings with their severity');
  await shot(aud, 'auditor-report');
  await audit(aud, 'auditor/report');
  await aud.goto(`${URL_}/#/audit`);
  await aud.locator('main table').waitFor();
  // The search is sandhostd's: the page asks for it (q=), and every row
  // it shows has every word.
  const words = ['alice', 'containers'];
  const searched = aud.waitForResponse(r => r.url().includes('/1.0/audit?') && new URL(r.url()).searchParams.get('q') === words.join(' '));
  await aud.getByLabel('Search').fill(words.join(' '));
  assert.equal((await searched).status(), 200);
  await aud.locator('main p.hint', { hasText: /^\d+ entr(y|ies) match/ }).waitFor();
  const rows = await aud.locator('main table tbody tr').allInnerTexts();
  assert.ok(rows.length > 0, 'alice\'s container requests are found');
  for (const row of rows) for (const w of words) assert.ok(row.toLowerCase().includes(w), `"${w}" in: ${row}`);
  const refused = aud.waitForResponse(r => r.url().includes('/1.0/audit?') && r.url().includes('failed=1'));
  await aud.getByLabel('Refused only').check();
  assert.equal((await refused).status(), 200);
  await aud.locator('main table, main .empty').first().waitFor();
  for (const s of await aud.locator('main table tbody td .badge').allInnerTexts()) assert.ok(Number(s) >= 400, `refused only: ${s}`);
  await shot(aud, 'auditor-log');
  await audit(aud, 'audit log (auditor)');
  await aud.context().close();
});

test('delete (confirmed), then log out: the session is gone', async () => {
  await alice.goto(`${URL_}/#/containers/${aliceId}`);
  await alice.getByRole('button', { name: 'Delete', exact: true }).click();
  await shot(alice, 'delete-confirm');
  await audit(alice, 'delete confirmation');
  await alice.locator('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await alice.waitForFunction(() => location.hash === '#/containers', null, { timeout: 120_000 });
  await waitOpsDone(alice);
  assert.equal((await apiCall(alice, 'GET', `/1.0/containers/${aliceId}`)).status, 404);
  await alice.locator('#logout').click();
  await alice.getByLabel('Name').waitFor();
  assert.match(await alice.locator('.notice').innerText(), /logged out/);
  const r = await alice.evaluate(async () => (await fetch('/1.0/containers', { credentials: 'same-origin' })).status);
  assert.equal(r, 401);
  await alice.goto(`${URL_}/#/containers/${aliceId}`);
  await alice.getByLabel('Name').waitFor();
  await alice.context().close();
});

test('no CSP violation, page error or dialog anywhere', () => {
  assert.deepEqual(problems, []);
});

test('no serious or critical accessibility violation on any page audited (axe-core)', () => {
  assert.equal(audits.length, 24, 'pages audited');
  assert.deepEqual(seriousA11y(), []);
});
