// Provider pages: tenants, users, plans, images, host capacity and health.
import { api, get } from '../api.js';
import { h, add, clear, table, fmtTime, fmtBytes, field, confirmDialog, showModal } from '../dom.js';
import { errorBox, form, ints } from '../forms.js';
import { isAdmin, session } from '../session.js';
import { parseMetrics } from '../metrics.js';

// A page with a list that reloads after each change.
async function listPage(el, title, intro, load, extra) {
  add(el, h('h1', {}, title), intro && h('p', {}, intro));
  const out = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    try { add(clear(out), await load(reload)); } catch (e) { add(clear(out), errorBox(e)); }
  };
  if (extra) add(el, await extra(reload));
  add(el, out);
  await reload();
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
  const planName = id => plans.find(p => p.id === id)?.name ?? String(id);
  const planSelect = (name, value) => h('select', { name }, plans.map(p => h('option', { value: p.id, selected: p.id === value }, p.name)));
  await listPage(el, 'Tenants', 'Customers: each has a plan, containers, users and a network.', async reload => {
    const list = (await get('/1.0/tenants')).tenants;
    return table('Tenants', [
      ['Id', t => String(t.id)], ['Name', t => t.name],
      ['Plan', t => {
        if (!isAdmin()) return planName(t.plan_id);
        const s = planSelect('plan_id', t.plan_id);
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
    field('Plan', planSelect('plan_id', plans[0]?.id)),
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
  await listPage(el, 'Users', isAdmin() ? 'Everyone who may log in, their role and their second factor.' : 'The users of your tenant.', async reload => {
    const list = (await get('/1.0/users')).users;
    const note = (b, text) => b.after(h('span', { class: 'notice', role: 'status' }, ` ${text}`));
    return table('Users', [
      ['Id', u => String(u.id)], ['Name', u => u.name], ['Role', u => u.role],
      ['Tenant', u => (u.tenant_id ? tenantsList.find(t => t.id === u.tenant_id)?.name ?? String(u.tenant_id) : '—')],
      ['Password', u => (u.has_password === false ? 'none' : 'set')],
      ['2FA', u => (u.totp_enabled ? 'on' : 'off')],
      ['Locked until', u => (u.locked_until && u.locked_until * 1000 > Date.now() ? fmtTime(u.locked_until) : '—')],
      ['', u => u.id === session.user.id ? '(you)' : h('div', { class: 'actions' },
        h('button', {
          class: 'secondary', 'aria-label': `Reset password of ${u.name}`,
          onclick: async ev => {
            const pw = await askPassword(u);
            if (pw === null) return;
            try { await api('PUT', `/1.0/users/${u.id}/password`, { password: pw }); note(ev.target, 'password set'); } catch (e) { note(ev.target, e.message); }
          },
        }, 'Reset password'),
        u.totp_enabled && dangerButton('Reset 2FA', `Reset 2FA (two-factor authentication) of ${u.name}`, `Reset ${u.name}'s two-factor authentication?`,
          'They log in with their password alone until they enrol again.', () => api('DELETE', `/1.0/users/${u.id}/totp`), reload),
        dangerButton('Delete', `Delete user ${u.name}`, `Delete user ${u.name}?`, 'Their tokens and sessions go with them.', () => api('DELETE', `/1.0/users/${u.id}`), reload))],
    ], list, 'No users.');
  }, async reload => form('New user', [
    field('Name', h('input', { name: 'name', required: true, autocapitalize: 'none' })),
    field('Role', h('select', { name: 'role' }, roles.map(r => h('option', { value: r }, r)))),
    isAdmin() && field('Tenant (owners and members)', h('select', { name: 'tenant_id' }, h('option', { value: '' }, '—'), tenantsList.map(t => h('option', { value: t.id }, t.name)))),
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
  await listPage(el, 'Plans', 'What a tenant may use: per container and in total.', async reload => table('Plans', [
    ['Name', p => p.name],
    ...PLAN_FIELDS.map(([k, label]) => [label, p => String(p[k])]),
    ['Network default', p => p.net_default], ['Seccomp', p => p.seccomp],
    ['', p => dangerButton('Delete', `Delete plan ${p.name}`, `Delete plan ${p.name}?`, 'Only a plan no tenant uses can be deleted.', () => api('DELETE', `/1.0/plans/${p.id}`), reload)],
  ], (await get('/1.0/plans')).plans), async reload => form('New plan', [
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
  await listPage(el, 'Images', 'The images of the default pool; containers are made from them.', async reload => table('Images', [
    ['Id', i => String(i.id)], ['Name', i => i.name],
    ['Description', i => {
      const input = h('input', { name: 'description', value: i.description ?? '', 'aria-label': `Description of ${i.name}` });
      const f = form(`Description of ${i.name}`, [input], 'Save', async () => { await api('PATCH', `/1.0/images/${i.id}`, { description: input.value }); reload(); }, { class: 'inline-form' });
      return f;
    }],
    ['Created', i => fmtTime(i.created_at)],
  ], (await get('/1.0/images')).images));
}

export async function host(el) {
  add(el, h('h1', {}, 'Host'));
  const out = h('div', { 'aria-live': 'polite' });
  add(el, out);
  const [info, text] = await Promise.all([get('/1.0'), get('/1.0/metrics', { raw: true })]);
  const m = parseMetrics(text);
  const sum = (name, pred = () => true) => (m[name] ?? []).filter(x => pred(x.labels)).reduce((a, x) => a + x.value, 0);
  const states = {};
  for (const { labels, value } of m.sandhost_container_state ?? []) if (value) states[labels.state] = (states[labels.state] ?? 0) + 1;
  const ops = Object.fromEntries((m.sandhost_operations ?? []).map(x => [x.labels.status, x.value]));
  const kind = (name, k) => sum(name, l => l.kind === k);
  const pct = (a, b) => (b > 0 ? ` (${Math.round((100 * a) / b)}%)` : '');
  const poolSize = kind('sandhost_pool_bytes', 'size'), poolUsed = kind('sandhost_pool_bytes', 'used');
  const memTotal = kind('sandhost_host_memory_bytes', 'total'), memAvail = kind('sandhost_host_memory_bytes', 'available');
  const watermark = sum('sandhost_pool_watermark_ratio');
  add(out, 
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
    ], m.sandhost_tenant_containers ?? [], 'No tenant has containers.'),
    h('details', {}, h('summary', {}, 'All metrics (Prometheus text)'), h('pre', { class: 'raw' }, text)));
}
