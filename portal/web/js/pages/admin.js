// Provider pages: tenants, users, plans, images, host capacity and health.
import { api, get } from '../api.js';
import { h, add, table, fmtTime, fmtBytes, field, confirmDialog, showModal } from '../dom.js';
import { form, ints } from '../forms.js';
import { poll, pollStatus, POLL_MS } from '../poll.js';
import { isAdmin, session } from '../session.js';
import { parseMetrics } from '../metrics.js';

// A page with a table that stays current. load() -> the lists it shows (as
// api.js keeps them: a 304 gives back the very object drawn last, so
// nothing is redrawn); draw(...lists, {reload, say}) -> the table. Only the
// table's region is redrawn, never the forms beside it, and a poll leaves it
// alone while a control in it is being edited (focused, or changed from what
// was drawn); reload() after the admin's own change redraws regardless.
// say(text): what an action did, in a status line that outlives redraws.
async function listPage(el, title, intro, load, draw, extra) {
  add(el, h('h1', {}, title), intro && h('p', {}, intro));
  const out = h('div', { class: 'list-region' });
  const status = pollStatus();
  const said = h('p', { class: 'action-status', role: 'status' });
  const say = text => { said.textContent = text; };
  let drawn = null;
  const refresh = async force => {
    let lists;
    try { lists = await load(); } catch (e) { status.failed(e); return; }
    status.ok();
    if ((drawn && lists.every((x, i) => x === drawn[i])) || (!force && editing(out))) return;
    redraw(out, draw(...lists, { reload, say }));
    drawn = lists;
  };
  const reload = () => refresh(true);
  if (extra) add(el, await extra(reload));
  add(el, status.el, said, out);
  await refresh(true);
  poll(out, () => refresh(false));
}

function editing(region) {
  return [...region.querySelectorAll('input, textarea, select')].some(x => x === document.activeElement || (x.tagName !== 'SELECT' && x.value !== x.defaultValue));
}

// Puts `content` in place of the region's, in one step (the page's height,
// hence its scroll position, does not collapse in between); the control that
// had the focus gets it back when the new content has one of its name. What
// the controls hold now is what "changed from what was drawn" compares with.
function redraw(region, content) {
  const was = region.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
  region.replaceChildren(content);
  for (const x of region.querySelectorAll('input, textarea')) x.defaultValue = x.value;
  if (was) [...region.querySelectorAll('[aria-label]')].find(x => x.getAttribute('aria-label') === was)?.focus({ preventScroll: true });
}

// A form's <select> of a list that polls bring anew: its options follow the
// list and the choice stays (left alone while it has the focus).
function refill(select, items, label, lead = []) {
  if (!select || document.activeElement === select) return;
  const chosen = select.value;
  select.replaceChildren(...lead, ...items.map(x => h('option', { value: x.id }, label(x))));
  if ([...select.options].some(o => o.value === chosen)) select.value = chosen;
}

// A button that confirms, calls, and shows the refusal beside itself.
function dangerButton(label, aria, question, detail, call, after) {
  return h('button', {
    class: 'danger', 'aria-label': aria,
    onclick: async ev => {
      if (!await confirmDialog(question, detail, label)) return;
      const b = ev.target;
      b.disabled = true;
      try { await call(); after(); } catch (e) { b.disabled = false; b.after(h('span', { class: 'error', role: 'alert' }, ` ${e.message}`)); }
    },
  }, label);
}

export async function tenants(el) {
  const plans = (await get('/1.0/plans')).plans;
  const planSelect = (name, value, list = plans) => h('select', { name }, list.map(p => h('option', { value: p.id, selected: p.id === value }, p.name)));
  const planPick = isAdmin() ? planSelect('plan_id', plans[0]?.id) : null;
  await listPage(el, 'Tenants', 'Customers: each has a plan, containers, users and a network.',
    () => Promise.all([get('/1.0/tenants'), get('/1.0/plans')]), ({ tenants: list }, { plans }, { reload }) => {
    refill(planPick, plans, p => p.name);
    const planName = id => plans.find(p => p.id === id)?.name ?? String(id);
    return table('Tenants', [
      ['Id', t => String(t.id)], ['Name', t => t.name],
      ['Plan', t => {
        if (!isAdmin()) return planName(t.plan_id);
        const s = planSelect('plan_id', t.plan_id, plans);
        s.setAttribute('aria-label', `Plan of ${t.name}`);
        s.addEventListener('change', async () => {
          try { await api('PATCH', `/1.0/tenants/${t.id}`, { plan_id: Number(s.value) }); } catch (e) { s.after(h('span', { class: 'error', role: 'alert' }, ` ${e.message}`)); }
        });
        return s;
      }],
      ['Created', t => fmtTime(t.created_at)],
      ['', t => isAdmin() && dangerButton('Delete', `Delete tenant ${t.name}`, `Delete tenant ${t.name}?`, 'Only a tenant without containers can be deleted.', () => api('DELETE', `/1.0/tenants/${t.id}`), reload)],
    ], list, 'No tenants yet.');
  }, async reload => isAdmin() && form('New tenant', [
    field('Name', h('input', { name: 'name', required: true, autocapitalize: 'none' })),
    field('Plan', planPick),
  ], 'Create tenant', async (v, f) => {
    await api('POST', '/1.0/tenants', { name: v.name, plan_id: Number(v.plan_id) });
    f.reset();
    reload();
  }));
}

// A dialog asking for one value (a new password).
function askPassword(user) {
  return new Promise(resolve => {
    const input = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: '10' });
    const dlg = h('dialog', { 'aria-labelledby': 'pw-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'pw-title' }, `New password for ${user.name}`),
        field('New password', input, 'At least 10 characters; their sessions are logged out.'),
        h('div', { class: 'actions' }, h('button', { value: 'cancel', class: 'secondary', formnovalidate: true }, 'Cancel'), h('button', { value: 'ok' }, 'Set password'))));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok' ? input.value : null); });
    showModal(dlg, input);
  });
}

export async function users(el) {
  const tenantsList = (await get('/1.0/tenants')).tenants;
  const roles = isAdmin() ? ['member', 'owner', 'auditor', 'admin'] : ['member', 'owner'];
  const tenantPick = isAdmin() ? h('select', { name: 'tenant_id' }, h('option', { value: '' }, '—'), tenantsList.map(t => h('option', { value: t.id }, t.name))) : null;
  await listPage(el, 'Users', isAdmin() ? 'Everyone who may log in, their role and their second factor.' : 'The users of your tenant.',
    () => Promise.all([get('/1.0/users'), get('/1.0/tenants')]), ({ users: list }, { tenants: tenantsNow }, { reload, say }) => {
    refill(tenantPick, tenantsNow, t => t.name, [h('option', { value: '' }, '—')]);
    return table('Users', [
      ['Id', u => String(u.id)], ['Name', u => u.name], ['Role', u => u.role],
      ['Tenant', u => (u.tenant_id ? tenantsNow.find(t => t.id === u.tenant_id)?.name ?? String(u.tenant_id) : '—')],
      ['Password', u => (u.has_password === false ? 'none' : 'set')],
      ['2FA', u => (u.totp_enabled ? 'on' : 'off')],
      ['Locked until', u => (u.locked_until && u.locked_until * 1000 > Date.now() ? fmtTime(u.locked_until) : '—')],
      ['', u => u.id === session.user.id ? '(you)' : h('div', { class: 'actions' },
        h('button', {
          class: 'secondary', 'aria-label': `Reset password of ${u.name}`,
          onclick: async () => {
            const pw = await askPassword(u);
            if (pw === null) return;
            try { await api('PUT', `/1.0/users/${u.id}/password`, { password: pw }); say(`Password of ${u.name} set.`); } catch (e) { say(`Password of ${u.name} not set: ${e.message}`); }
          },
        }, 'Reset password'),
        u.totp_enabled && dangerButton('Reset 2FA', `Reset 2FA (two-factor authentication) of ${u.name}`, `Reset ${u.name}'s two-factor authentication?`,
          'They log in with their password alone until they enrol again.', () => api('DELETE', `/1.0/users/${u.id}/totp`), reload),
        dangerButton('Delete', `Delete user ${u.name}`, `Delete user ${u.name}?`, 'Their tokens and sessions go with them.', () => api('DELETE', `/1.0/users/${u.id}`), reload))],
    ], list, 'No users.');
  }, async reload => form('New user', [
    field('Name', h('input', { name: 'name', required: true, autocapitalize: 'none' })),
    field('Role', h('select', { name: 'role' }, roles.map(r => h('option', { value: r }, r)))),
    tenantPick && field('Tenant (owners and members)', tenantPick),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password' }), 'Optional: without one they use API tokens only.'),
  ], 'Create user', async (v, f) => {
    const body = { name: v.name, role: v.role, ...ints(v, ['tenant_id']) };
    if (v.password) body.password = v.password;
    await api('POST', '/1.0/users', body);
    f.reset();
    reload();
  }));
}

const PLAN_FIELDS = [
  ['cpu_millis', 'CPU per container (millis)'], ['memory_mib', 'Memory per container (MiB)'], ['pids', 'Processes per container'],
  ['disk_mib', 'Disk per container (MiB)'], ['bandwidth_mbit', 'Bandwidth (Mbit/s)'], ['max_containers', 'Containers'],
  ['total_cpu_millis', 'Total CPU (millis)'], ['total_memory_mib', 'Total memory (MiB)'], ['total_disk_mib', 'Total disk (MiB)'],
];

export async function plans(el) {
  await listPage(el, 'Plans', 'What a tenant may use: per container and in total.', () => Promise.all([get('/1.0/plans')]), ({ plans: list }, { reload }) => table('Plans', [
    ['Name', p => p.name],
    ...PLAN_FIELDS.map(([k, label]) => [label, p => String(p[k])]),
    ['Network default', p => p.net_default], ['Seccomp', p => p.seccomp],
    ['', p => dangerButton('Delete', `Delete plan ${p.name}`, `Delete plan ${p.name}?`, 'Only a plan no tenant uses can be deleted.', () => api('DELETE', `/1.0/plans/${p.id}`), reload)],
  ], list), async reload => form('New plan', [
    field('Name', h('input', { name: 'name', required: true, autocapitalize: 'none' })),
    h('div', { class: 'grid' }, PLAN_FIELDS.map(([k, label]) => field(label, h('input', { name: k, type: 'number', min: '1', inputmode: 'numeric' })))),
    field('Network default', h('select', { name: 'net_default' }, h('option', { value: 'allow' }, 'allow'), h('option', { value: 'deny' }, 'deny'))),
    field('Seccomp', h('select', { name: 'seccomp' }, h('option', { value: 'default' }, 'default'), h('option', { value: 'strict' }, 'strict'))),
  ], 'Create plan', async (v, f) => {
    await api('POST', '/1.0/plans', { name: v.name, net_default: v.net_default, seccomp: v.seccomp, ...ints(v, PLAN_FIELDS.map(([k]) => k)) });
    f.reset();
    reload();
  }));
}

export async function images(el) {
  await listPage(el, 'Images', 'The images of the default pool; containers are made from them.', () => Promise.all([get('/1.0/images')]), ({ images: list }, { reload }) => table('Images', [
    ['Id', i => String(i.id)], ['Name', i => i.name],
    ['Description', i => {
      const input = h('input', { name: 'description', value: i.description ?? '', 'aria-label': `Description of ${i.name}` });
      const f = form(`Description of ${i.name}`, [input], 'Save', async () => { await api('PATCH', `/1.0/images/${i.id}`, { description: input.value }); reload(); }, { class: 'inline-form' });
      return f;
    }],
    ['Created', i => fmtTime(i.created_at)],
  ], list));
}

// The figures the host page shows: ?name= asks for these families only (the
// whole text is 7 state lines a container besides); the whole text is read
// while its section is open.
const HOST_FAMILIES = ['sandhost_up', 'sandhost_operations', 'sandhost_host_cpus', 'sandhost_host_load1', 'sandhost_host_memory_bytes',
  'sandhost_pool_bytes', 'sandhost_pool_watermark_ratio', 'sandhost_container_state', 'sandhost_tenant_memory_bytes',
  'sandhost_tenant_cpu_seconds_total', 'sandhost_container_pids', 'sandhost_tenant_containers'];
const HOST_METRICS = `/1.0/metrics?${HOST_FAMILIES.map(f => `name=${f}`).join('&')}`;

// Host capacity and health, redrawn at each poll; data-updated on the
// figures is the time (ms) of the last redraw.
export async function host(el) {
  const out = h('div', { id: 'host-figures' });
  const status = pollStatus();
  const updated = h('p', { class: 'hint' });
  const raw = h('pre', { class: 'raw' });
  const all = h('details', {}, h('summary', {}, 'All metrics (Prometheus text)'), raw);
  add(el, h('h1', {}, 'Host'), status.el, out, updated, all);
  const refresh = async () => {
    let info, text;
    try {
      [info, text] = await Promise.all([get('/1.0'), get(HOST_METRICS, { raw: true })]);
      if (all.open) raw.textContent = await get('/1.0/metrics', { raw: true });
    } catch (e) { status.failed(e); return; }
    status.ok();
    out.replaceChildren(...hostFigures(info, parseMetrics(text)));
    out.dataset.updated = String(Date.now());
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
  };
  all.addEventListener('toggle', () => { if (all.open) refresh(); });
  await refresh();
  poll(out, refresh);
}

function hostFigures(info, m) {
  const sum = (name, pred = () => true) => (m[name] ?? []).filter(x => pred(x.labels)).reduce((a, x) => a + x.value, 0);
  const states = {};
  for (const { labels, value } of m.sandhost_container_state ?? []) if (value) states[labels.state] = (states[labels.state] ?? 0) + 1;
  const ops = Object.fromEntries((m.sandhost_operations ?? []).map(x => [x.labels.status, x.value]));
  const kind = (name, k) => sum(name, l => l.kind === k);
  const pct = (a, b) => (b > 0 ? ` (${Math.round((100 * a) / b)}%)` : '');
  const poolSize = kind('sandhost_pool_bytes', 'size'), poolUsed = kind('sandhost_pool_bytes', 'used');
  const memTotal = kind('sandhost_host_memory_bytes', 'total'), memAvail = kind('sandhost_host_memory_bytes', 'available');
  const watermark = sum('sandhost_pool_watermark_ratio');
  return [
    h('h2', {}, 'Health'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'sandhostd'), h('dd', {}, sum('sandhost_up') ? h('span', { class: 'badge ok' }, 'up') : h('span', { class: 'badge bad' }, 'down')),
      h('dt', {}, 'Server'), h('dd', {}, `${info.server ?? ''} ${info.version ?? ''} (API ${info.api_version ?? '?'})`),
      h('dt', {}, 'You'), h('dd', {}, `${info.auth?.principal ?? '?'} (${info.auth?.role ?? '?'})`),
      h('dt', {}, 'Operations'), h('dd', {}, Object.entries(ops).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none')),
    h('h2', {}, 'Host capacity'),
    h('dl', { class: 'facts', id: 'host-capacity' },
      h('dt', {}, 'CPUs'), h('dd', {}, `${sum('sandhost_host_cpus')} (load ${sum('sandhost_host_load1').toFixed(2)})`),
      h('dt', {}, 'Memory'), h('dd', {}, `${fmtBytes(memTotal - memAvail)} of ${fmtBytes(memTotal)} in use${pct(memTotal - memAvail, memTotal)}`),
      h('dt', {}, 'Storage pool'), h('dd', {},
        poolSize ? `${fmtBytes(poolUsed)} of ${fmtBytes(poolSize)} used${pct(poolUsed, poolSize)}; new containers are refused above ${Math.round(watermark * 100)}%` : 'unknown')),
    h('h2', {}, 'Capacity in use'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Containers'), h('dd', {}, `${Object.values(states).reduce((a, b) => a + b, 0)} (${Object.entries(states).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})`),
      h('dt', {}, 'Memory of running containers'), h('dd', {}, fmtBytes(sum('sandhost_tenant_memory_bytes'))),
      h('dt', {}, 'CPU time of running containers'), h('dd', {}, `${sum('sandhost_tenant_cpu_seconds_total').toFixed(1)} s`),
      h('dt', {}, 'Processes'), h('dd', {}, String(sum('sandhost_container_pids')))),
    h('h2', {}, 'Per tenant'),
    table('Per tenant', [
      ['Tenant', x => x.labels.tenant_id], ['Containers', x => String(x.value)],
      ['Memory', x => fmtBytes(sum('sandhost_tenant_memory_bytes', l => l.tenant_id === x.labels.tenant_id))],
      ['CPU time', x => `${sum('sandhost_tenant_cpu_seconds_total', l => l.tenant_id === x.labels.tenant_id).toFixed(1)} s`],
    ], m.sandhost_tenant_containers ?? [], 'No tenant has containers.')];
}
