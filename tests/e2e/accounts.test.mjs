// End-to-end, the accounts side of the portal (run.sh runs it after
// portal.test.mjs, same environment): an admin makes a plan, a tenant and
// users through the admin pages; those users then enrol TOTP and log in with
// it (the admin resets it), change their password, and lock their account
// with bad passwords (the admin's password reset unlocks it). Logins are few
// (the portal limits them per address; submitLogin waits its limit out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cred, visit, SUFFIX, URL_, problems, useBrowser, newPage, shot, gotoLogin, submitLogin, login, logout, apiCall, apiJson, totpCode, wrongTotp, audit, audits, seriousA11y,
} from './lib.mjs';

const ADMIN = cred('E2E_ADMIN');
useBrowser('accounts');

const PLAN = `plan-${SUFFIX}`, TENANT = `team-${SUFFIX}`;
const pw = tag => `${tag}-${SUFFIX}-Secret-Pass`;
// tess: TOTP; pat: password change; lou: lockout, then an admin's reset.
const TESS = { name: `tess-${SUFFIX}`, password: pw('tess') };
const PAT = { name: `pat-${SUFFIX}`, password: pw('pat') };
const LOU = { name: `lou-${SUFFIX}`, password: pw('lou') };

let admin;
const fieldError = (page, name) => page.locator(`[data-error-for="${name}"]:not([hidden])`);
const rowOf = (page, name) => page.locator('tr', { has: page.locator('td', { hasText: new RegExp(`^${name}$`) }) });
const userRow = name => rowOf(admin, name);
// A cell of the users table by its column's header.
const cellOf = async (page, name, header) => (await rowOf(page, name).locator(`td[data-label="${header}"]`).innerText()).trim();
const userCell = (name, header) => cellOf(admin, name, header);

test('admin: a plan, a tenant and users made through the admin pages, bad values refused at their field', async () => {
  admin = await newPage('admin');
  await gotoLogin(admin);
  await login(admin, ADMIN);

  await visit(admin, 'admin/plans');
  await admin.getByRole('button', { name: 'Create plan', exact: true }).waitFor();
  const plan = {
    'CPU per container (millis)': '500', 'Memory per container (MiB)': '256', 'Processes per container': '200',
    'Disk per container (MiB)': '-5', 'Bandwidth (Mbit/s)': '50', 'Containers': '3',
    'Total CPU (millis)': '1500', 'Total memory (MiB)': '768', 'Total disk (MiB)': '3072',
  };
  await admin.getByLabel('Name', { exact: true }).fill(PLAN);
  for (const [label, v] of Object.entries(plan)) await admin.getByLabel(label, { exact: true }).fill(v);
  await admin.getByRole('button', { name: 'Create plan', exact: true }).click();
  await fieldError(admin, 'disk_mib').waitFor();
  assert.match(await fieldError(admin, 'disk_mib').innerText(), /disk_mib.*-5/);
  assert.equal(await admin.getByLabel('Disk per container (MiB)', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.match(await admin.locator('form .form-error').innerText(), /disk_mib/);
  await shot(admin, 'plan-refused');
  await audit(admin, 'plans with a refused field');
  await admin.getByLabel('Disk per container (MiB)', { exact: true }).fill('1024');
  await admin.getByRole('button', { name: 'Create plan', exact: true }).click();
  await admin.locator('td', { hasText: PLAN }).waitFor();
  assert.equal(await fieldError(admin, 'disk_mib').count(), 0, 'the error is gone');
  const made = (await apiJson(admin, '/1.0/plans')).plans.find(p => p.name === PLAN);
  assert.ok(made, 'the plan exists');
  assert.equal(made.disk_mib, 1024);
  assert.equal(made.max_containers, 3);
  await shot(admin, 'plan-made');

  await visit(admin, 'admin/tenants');
  await admin.getByRole('button', { name: 'Create tenant', exact: true }).waitFor();
  await admin.getByLabel('Name', { exact: true }).fill('Not A Name!');
  await admin.getByLabel('Plan', { exact: true }).selectOption({ label: PLAN });
  await admin.getByRole('button', { name: 'Create tenant', exact: true }).click();
  await fieldError(admin, 'name').waitFor();
  assert.match(await fieldError(admin, 'name').innerText(), /name/);
  await shot(admin, 'tenant-refused');
  await admin.getByLabel('Name', { exact: true }).fill(TENANT);
  await admin.getByRole('button', { name: 'Create tenant', exact: true }).click();
  await admin.locator('td', { hasText: TENANT }).waitFor();
  const tenant = (await apiJson(admin, '/1.0/tenants')).tenants.find(t => t.name === TENANT);
  assert.equal(tenant?.plan_id, made.id, 'the tenant is on the new plan');
  await shot(admin, 'tenant-made');

  await visit(admin, 'admin/users');
  await admin.getByRole('button', { name: 'Create user', exact: true }).waitFor();
  const create = async ({ name, password }, role) => {
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByLabel('Role', { exact: true }).selectOption(role);
    await admin.getByLabel('Tenant (owners and members)').selectOption({ label: TENANT });
    await admin.getByLabel('Password', { exact: true }).fill(password);
    await admin.getByRole('button', { name: 'Create user', exact: true }).click();
  };
  await create({ ...TESS, password: 'short' }, 'owner');
  await fieldError(admin, 'password').waitFor();
  assert.match(await fieldError(admin, 'password').innerText(), /password.*10/);
  await shot(admin, 'user-refused');
  for (const [u, role] of [[TESS, 'owner'], [PAT, 'member'], [LOU, 'member']]) {
    await create(u, role);
    await userRow(u.name).waitFor();
  }
  const users = (await apiJson(admin, '/1.0/users')).users;
  for (const [u, role] of [[TESS, 'owner'], [PAT, 'member'], [LOU, 'member']]) {
    const got = users.find(x => x.name === u.name);
    assert.equal(got?.role, role, `${u.name} is ${role}`);
    assert.equal(got.tenant_id, tenant.id);
    assert.equal(got.has_password, true);
    assert.equal(await userCell(u.name, '2FA'), 'off');
  }
  await shot(admin, 'users-made');
  await audit(admin, 'users');
});

test('TOTP: enrolled on the Account page; login asks for the code, refuses a wrong one; an admin resets it', async () => {
  const tess = await newPage('tess');
  await gotoLogin(tess);
  await login(tess, TESS);
  await visit(tess, 'account');
  await tess.getByRole('button', { name: 'Turn on', exact: true }).click();
  const secret = (await tess.locator('#totp-secret').innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/);
  assert.match(await tess.locator('#totp-uri').innerText(), new RegExp(`^otpauth://totp/Sandhost:${TESS.name}\\?secret=${secret}`));
  await shot(tess, 'totp-enrol');
  await audit(tess, 'account: TOTP enrolment');
  // A wrong code does not turn it on.
  await tess.getByLabel('Code', { exact: true }).fill(wrongTotp(secret));
  await tess.getByRole('button', { name: 'Turn on', exact: true }).click();
  await fieldError(tess, 'code').waitFor();
  assert.match(await fieldError(tess, 'code').innerText(), /code/);
  await tess.getByLabel('Code', { exact: true }).fill(totpCode(secret));
  await tess.getByRole('button', { name: 'Turn on', exact: true }).click();
  await tess.getByText('On: logging in asks for a code from your authenticator app.').waitFor();
  assert.equal((await apiJson(tess, '/1.0/auth/session')).user.totp_enabled, true);
  await shot(tess, 'totp-on');
  await logout(tess);

  // The password alone: the form asks for the code.
  let refused = await submitLogin(tess, TESS);
  assert.match(refused?.field ?? '', /authenticator.*totp_required/);
  assert.match(refused.box, /see the field totp/);
  await tess.getByLabel('Code from your authenticator app').waitFor();
  await shot(tess, 'login-totp-asked');
  refused = await submitLogin(tess, TESS, wrongTotp(secret));
  assert.match(refused?.box ?? '', /totp/);
  assert.match(refused.field, /wrong code.*bad_totp/);
  assert.equal(await tess.getByLabel('Code from your authenticator app').getAttribute('aria-invalid'), 'true');
  await shot(tess, 'login-totp-wrong');
  await audit(tess, 'login: wrong TOTP code');
  assert.equal(await submitLogin(tess, TESS, totpCode(secret)), null, 'the right code logs in');
  assert.equal((await apiJson(tess, '/1.0/auth/session')).user.name, TESS.name);

  await visit(admin, 'admin/users');
  await userRow(TESS.name).waitFor();
  assert.equal(await userCell(TESS.name, '2FA'), 'on');
  await admin.getByRole('button', { name: `Reset 2FA (two-factor authentication) of ${TESS.name}`, exact: true }).click();
  await shot(admin, 'totp-reset-confirm');
  await admin.locator('dialog').getByRole('button', { name: 'Reset 2FA', exact: true }).click();
  await admin.getByRole('button', { name: `Reset 2FA (two-factor authentication) of ${TESS.name}`, exact: true }).waitFor({ state: 'detached' });
  assert.equal(await userCell(TESS.name, '2FA'), 'off');
  await shot(admin, 'totp-reset');

  await logout(tess);
  assert.equal(await submitLogin(tess, TESS), null, 'the password alone logs in again');
  assert.equal(await tess.getByLabel('Code from your authenticator app').isVisible(), false);
  assert.equal((await apiJson(tess, '/1.0/auth/session')).user.totp_enabled, false);
  await tess.context().close();
});

test('password change on the Account page: a wrong current one refused at its field; the new one logs in, the old one not', async () => {
  const pat = await newPage('pat');
  await gotoLogin(pat);
  await login(pat, PAT);
  await visit(pat, 'account');
  const next = `${PAT.password}-new`;
  await pat.getByLabel('Current password', { exact: true }).fill(`${PAT.password}-not`);
  await pat.getByLabel('New password', { exact: true }).fill(next);
  await pat.getByLabel('New password again', { exact: true }).fill(next);
  await pat.getByRole('button', { name: 'Change password', exact: true }).click();
  await fieldError(pat, 'current_password').waitFor();
  assert.match(await fieldError(pat, 'current_password').innerText(), /current_password: does not match/);
  assert.equal(await pat.getByLabel('Current password', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.ok(await pat.locator('#logout').isVisible(), 'still logged in');
  await shot(pat, 'password-refused');
  await audit(pat, 'account: password refused');
  await pat.getByLabel('Current password', { exact: true }).fill(PAT.password);
  await pat.getByRole('button', { name: 'Change password', exact: true }).click();
  await pat.locator('.form-status', { hasText: 'Password changed' }).waitFor();
  assert.equal(await fieldError(pat, 'current_password').count(), 0);
  await shot(pat, 'password-changed');
  await logout(pat);
  const refused = await submitLogin(pat, PAT);
  assert.match(refused?.box ?? '', /bad_credentials/, 'the old password is refused');
  assert.equal(await submitLogin(pat, { ...PAT, password: next }), null, 'the new one logs in');
  await pat.context().close();
});

test('lockout: bad passwords lock the account, the page says for how long; an admin\'s password reset lets the user in', async () => {
  const lou = await newPage('lou');
  await gotoLogin(lou);
  const bad = { ...LOU, password: `${LOU.password}-bad` };
  // login_max_failures (5) failures: the last one locks.
  for (let i = 0; i < 5; i++) {
    const refused = await submitLogin(lou, bad);
    assert.match(refused?.box ?? '', /bad_credentials/, `failure ${i + 1}`);
  }
  // Locked: even the right password is refused, with the time to wait.
  const refused = await submitLogin(lou, LOU);
  assert.match(refused?.box ?? '', /locked/);
  const wait = refused.box.match(/try again in (\d+) s/);
  assert.ok(wait && Number(wait[1]) > 0, `the wait is shown: ${refused.box}`);
  await shot(lou, 'login-locked');
  await audit(lou, 'login: locked');

  await visit(admin, 'admin/users');
  await userRow(LOU.name).waitFor();
  assert.notEqual(await userCell(LOU.name, 'Locked until'), '—', 'the Users page shows the lock');
  await shot(admin, 'user-locked');
  const fresh = `${LOU.password}-reset`;
  await admin.getByRole('button', { name: `Reset password of ${LOU.name}`, exact: true }).click();
  await admin.locator('dialog').getByLabel('New password').fill(fresh);
  await shot(admin, 'password-reset-dialog');
  await audit(admin, 'users: password reset dialog');
  await admin.locator('dialog').getByRole('button', { name: 'Set password', exact: true }).click();
  await admin.locator('.action-status', { hasText: `Password of ${LOU.name} set.` }).waitFor();
  await shot(admin, 'password-reset');
  const until = (await apiJson(admin, '/1.0/users')).users.find(u => u.name === LOU.name).locked_until ?? 0;
  assert.ok(until <= Date.now() / 1000, `the reset cleared the lock (${until})`);

  assert.match((await submitLogin(lou, LOU))?.box ?? '', /bad_credentials/, 'the old password no longer works');
  assert.equal(await submitLogin(lou, { ...LOU, password: fresh }), null, 'the new one logs in at once');
  await lou.context().close();
  await admin.context().close();
});

// The responses to GET `path` (no query) the page gets from now on, by status.
function recordGets(page, path) {
  const seen = [];
  page.on('response', r => { const u = new URL(r.url()); if (r.request().method() === 'GET' && u.pathname === path) seen.push(r.status()); });
  return { seen, clear: () => seen.splice(0) };
}

test('the admin pages stay current: Users shows a user added and a lockout made elsewhere, keeps what is being typed, gets 304 while nothing changes; Host redraws its figures', async () => {
  const live = await newPage('admin-live');
  await login(live, ADMIN);
  await visit(live, 'admin/users');
  await rowOf(live, PAT.name).waitFor();
  assert.equal(await cellOf(live, PAT.name, 'Locked until'), '—');
  const users = recordGets(live, '/1.0/users');
  // Half a new user typed in the form, and the password dialog of a row open with a value in it.
  const half = `half-${SUFFIX}`;
  await live.getByLabel('Name', { exact: true }).fill(half);
  await live.getByLabel('Role', { exact: true }).selectOption('owner');
  await live.getByRole('button', { name: `Reset password of ${TESS.name}`, exact: true }).click();
  await live.locator('dialog').getByLabel('New password').fill('typed-in-the-dialog');

  // Elsewhere: another admin adds a user; bad passwords lock pat.
  const other = await newPage('admin-other');
  await login(other, ADMIN);
  const nia = `nia-${SUFFIX}`;
  const made = await apiCall(other, 'POST', '/1.0/users', JSON.stringify({ name: nia, role: 'auditor', password: pw('nia') }));
  assert.equal(made.status, 201, made.text);
  const late = `late-${SUFFIX}`;
  const team = await apiCall(other, 'POST', '/1.0/tenants', JSON.stringify({ name: late, plan_id: 1 }));
  assert.equal(team.status, 201, team.text);
  const outsider = await newPage('outsider');
  await outsider.goto(`${URL_}/#/login`);
  for (let i = 0; i < 5; i++) {
    const r = await outsider.evaluate(async body => (await fetch('/1.0/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })).status,
      JSON.stringify({ name: PAT.name, password: 'not-the-password' }));
    assert.equal(r, 401, `bad password ${i + 1}`);
  }
  await outsider.context().close();

  // The page shows both, without navigation.
  const hash = await live.evaluate(() => location.hash);
  await rowOf(live, nia).waitFor();
  await live.waitForFunction(name => [...document.querySelectorAll('main tr')].some(tr =>
    tr.querySelector('td[data-label="Name"]')?.textContent === name && tr.querySelector('td[data-label="Locked until"]')?.textContent !== '—'), PAT.name);
  assert.equal(await cellOf(live, nia, 'Role'), 'auditor');
  assert.equal(await live.evaluate(() => location.hash), hash, 'no navigation');
  assert.ok(users.seen.includes(200), `the list was read again when it changed: ${users.seen}`);
  await shot(live, 'users-live');
  // What was being typed is all still there.
  assert.equal(await live.locator('dialog').getByLabel('New password').inputValue(), 'typed-in-the-dialog');
  await live.locator('dialog').getByRole('button', { name: 'Cancel', exact: true }).click();
  await live.locator('dialog').waitFor({ state: 'detached' });
  assert.equal(await live.getByLabel('Name', { exact: true }).inputValue(), half);
  assert.equal(await live.getByLabel('Role', { exact: true }).inputValue(), 'owner');
  // The form's tenant choice has the tenant made meanwhile.
  await live.getByLabel('Tenant (owners and members)').locator('option', { hasText: late }).waitFor({ state: 'attached' });
  assert.equal(await live.getByLabel('Tenant (owners and members)').inputValue(), '', 'the choice stays');
  assert.equal(await live.locator('.poll-status').innerText(), '', 'no poll failed');

  // Nothing changes: the polls get 304 and the table is the same element.
  await live.evaluate(() => { window.__usersTable = document.querySelector('main table'); });
  users.clear();
  while (users.seen.length < 2) await live.waitForResponse(r => new URL(r.url()).pathname === '/1.0/users');
  assert.deepEqual(users.seen.slice(0, 2), [304, 304]);
  assert.ok(await live.evaluate(() => window.__usersTable === document.querySelector('main table')), 'a 304 redraws nothing');
  assert.equal(await live.getByLabel('Name', { exact: true }).inputValue(), half);

  // Host: the figures are redrawn in place, asking for the families they show.
  await visit(live, 'admin/host');
  await live.locator('#host-capacity').waitFor();
  const metrics = [];
  live.on('request', r => { const u = new URL(r.url()); if (u.pathname === '/1.0/metrics') metrics.push(u.search); });
  const first = await live.locator('#host-figures').getAttribute('data-updated');
  await live.waitForFunction(prev => document.querySelector('#host-figures').dataset.updated !== prev, first);
  assert.equal(await live.evaluate(() => location.hash), '#/admin/host');
  assert.match(await live.locator('#host-capacity').innerText(), /CPUs\s*[1-9]/);
  assert.ok(metrics.length > 0 && metrics.every(q => q.includes('name=sandhost_host_load1')), `only the families shown: ${metrics}`);
  await shot(live, 'host-live');

  // A hidden tab asks nothing; shown again, it refreshes at once.
  await live.evaluate(() => { Object.defineProperty(document, 'hidden', { value: true, configurable: true }); document.dispatchEvent(new Event('visibilitychange')); });
  await live.waitForTimeout(100);
  metrics.splice(0);
  await live.waitForTimeout(11_000);
  assert.deepEqual(metrics, [], 'no poll while hidden');
  const shown = live.waitForRequest(r => new URL(r.url()).pathname === '/1.0/metrics');
  await live.evaluate(() => { delete document.hidden; document.dispatchEvent(new Event('visibilitychange')); });
  await shown;
  // Left for another page: no poll of the host's figures any more.
  await visit(live, 'account');
  await live.locator('h1', { hasText: 'Account' }).waitFor();
  metrics.splice(0);
  await live.waitForTimeout(11_000);
  assert.deepEqual(metrics, [], 'no poll once the page is left');
  await other.context().close();
  await live.context().close();
});

test('no CSP violation, page error or dialog anywhere', () => {
  assert.deepEqual(problems, []);
});

test('no serious or critical accessibility violation on any page audited (axe-core)', () => {
  assert.equal(audits.length, 7, 'pages audited');
  assert.deepEqual(seriousA11y(), []);
});
