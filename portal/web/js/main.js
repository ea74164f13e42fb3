// The portal's single page: hash routes, a menu by role, the session.
import './csp.js';
import { api, setUnauthorizedHandler } from './api.js';
import { h, add, clear } from './dom.js';
import { session, restore, forget, role } from './session.js';
import * as login from './pages/login.js';
import * as containers from './pages/containers.js';
import * as create from './pages/create.js';
import * as container from './pages/container.js';
import * as usage from './pages/usage.js';
import * as tokens from './pages/tokens.js';
import * as audit from './pages/audit.js';
import * as account from './pages/account.js';
import * as admin from './pages/admin.js';
import * as report from './pages/report.js';

// [pattern, page, roles that see it in the menu (null: not in the menu), menu label]
const TENANT = ['owner', 'member'];
const routes = [
  [/^login$/, login.render, null],
  [/^containers$/, containers.render, ['owner', 'member', 'admin', 'auditor'], 'Containers'],
  [/^containers\/new$/, create.render, null],
  [/^containers\/(\d+)(?:\/(\w+))?$/, container.render, null],
  [/^usage$/, usage.render, ['owner', 'member', 'admin', 'auditor'], 'Usage'],
  [/^admin\/tenants$/, admin.tenants, ['admin', 'auditor'], 'Tenants'],
  [/^admin\/users$/, admin.users, ['admin', 'owner'], 'Users'],
  [/^admin\/plans$/, admin.plans, ['admin'], 'Plans'],
  [/^admin\/images$/, admin.images, ['admin'], 'Images'],
  [/^admin\/host$/, admin.host, ['admin', 'auditor'], 'Host'],
  [/^auditor\/report$/, report.render, ['admin', 'auditor', 'owner'], 'Audit report'],
  [/^audit$/, audit.render, ['owner', 'member', 'admin', 'auditor'], 'Audit log'],
  [/^tokens$/, tokens.render, [...TENANT, 'admin', 'auditor'], 'API tokens'],
  [/^account$/, account.render, [...TENANT, 'admin', 'auditor'], 'Account'],
];

const main = () => document.getElementById('main');
let leaving = [];
// Pages register what to stop (timers, sockets) when the route changes.
export function onLeave(f) { leaving.push(f); }

export function home() {
  return role() === 'auditor' ? 'auditor/report' : 'containers';
}

export function go(route) {
  if (location.hash === `#/${route}`) route_();
  else location.hash = `#/${route}`;
}

function nav() {
  const el = clear(document.getElementById('nav'));
  const who = clear(document.getElementById('who'));
  if (!session.user) return;
  const here = location.hash.slice(2);
  add(el, h('ul', {}, routes.filter(r => r[2] && r[2].includes(role())).map(([re, , , label]) => {
    const path = re.source.replace(/^\^|\$$/g, '').replace(/\\\//g, '/');
    const current = here === path || here.startsWith(`${path}/`);
    return h('li', {}, h('a', { href: `#/${path}`, 'aria-current': current ? 'page' : null }, label));
  })));
  add(who, 
    h('span', { class: 'whoami' }, `${session.user.name} (${session.user.role}${session.user.tenant_id ? `, tenant ${session.user.tenant_id}` : ''})`),
    h('button', { class: 'secondary', id: 'logout', onclick: logout }, 'Log out'));
}

async function logout() {
  try { await api('POST', '/1.0/auth/logout', {}); } catch { /* the session is gone either way */ }
  forget();
  login.flash('You are logged out.');
  go('login');
}

async function route_() {
  for (const f of leaving.splice(0)) { try { f(); } catch { /* already stopped */ } }
  const path = location.hash.replace(/^#\/?/, '') || (session.user ? home() : 'login');
  if (!session.user && path !== 'login') { login.next(path); return go('login'); }
  if (session.user && session.mustEnrollTotp && path !== 'account' && path !== 'login') return go('account');
  const m = routes.map(([re, page]) => [path.match(re), page]).find(([x]) => x);
  nav();
  const el = clear(main());
  if (!m) {
    add(el, h('h1', {}, 'Not found'), h('p', {}, `There is no page "${path}".`), h('a', { href: `#/${home()}` }, 'Home'));
  } else {
    try {
      await m[1](el, ...m[0].slice(1));
    } catch (e) {
      add(el, h('p', { class: 'error', role: 'alert' }, `This page failed: ${e.message}${e.code ? ` (${e.code}, ${e.status})` : ''}`));
    }
  }
  const h1 = el.querySelector('h1');
  if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); document.title = `${h1.textContent} · Sandhost`; }
}

setUnauthorizedHandler(err => {
  if (!session.user) return;
  forget();
  login.flash(err.code === 'session_expired' ? 'Your session has expired: please log in again.' : `Logged out: ${err.message}`);
  login.next(location.hash.slice(2));
  go('login');
});

window.addEventListener('hashchange', route_);
await restore();
route_();
