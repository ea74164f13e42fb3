// One container: its actions and tabs (overview, snapshots, console, usage,
// policy). Another tenant's container is a 404 like a missing one.
import { api, get } from '../api.js';
import { h, add, clear, table, fmtTime, confirmDialog, field } from '../dom.js';
import { errorBox, form } from '../forms.js';
import { operate, follow } from '../ops.js';
import { go } from '../main.js';
import { role } from '../session.js';
import { stateBadge, address, size } from './containers.js';
import { consoleTab } from './console.js';
import { usageCharts } from './usage.js';
import { policyTab } from './policy.js';

const TABS = [['overview', 'Overview'], ['snapshots', 'Snapshots'], ['console', 'Console'], ['usage', 'Usage'], ['policy', 'Network policy']];

export async function render(el, id, tab = 'overview') {
  let c;
  try {
    c = await get(`/1.0/containers/${id}`);
  } catch (e) {
    add(el, h('h1', {}, e.status === 404 ? 'Container not found' : 'Container'), errorBox(e), h('a', { href: '#/containers' }, 'Back to the containers'));
    return;
  }
  const reload = () => go(`containers/${id}/${tab}`);
  const readOnly = role() === 'auditor';
  const act = (label, action, extra = {}) => async () => {
    // One change at a time: the page is drawn afresh when it ends.
    for (const b of actions.querySelectorAll('button')) b.disabled = true;
    try { await operate(`${action} ${c.name}`, 'PUT', `/1.0/containers/${id}/state`, { action, ...extra }); } catch { /* shown in the operations list */ }
    reload();
  };
  const actions = readOnly ? null : h('div', { class: 'actions', role: 'group', 'aria-label': 'Container actions' },
    h('button', { onclick: act('Start', 'start'), disabled: c.state !== 'stopped' }, 'Start'),
    h('button', { onclick: act('Stop', 'stop'), disabled: c.state !== 'running' }, 'Stop'),
    h('button', { onclick: act('Restart', 'restart'), disabled: c.state !== 'running' }, 'Restart'),
    h('button', {
      class: 'secondary', disabled: c.state !== 'stopped',
      onclick: async ev => {
        if (await confirmDialog(`Rebuild ${c.name}?`, 'Its files are replaced by a fresh copy of its image. Its snapshots are kept.', 'Rebuild'))
          act('Rebuild', 'rebuild')(ev);
      },
    }, 'Rebuild'),
    h('button', {
      class: 'danger',
      onclick: async ev => {
        if (!await confirmDialog(`Delete ${c.name}?`, 'The container, its files and its snapshots are deleted. This cannot be undone.', 'Delete')) return;
        ev.target.disabled = true;
        try {
          const op = await operate(`delete ${c.name}`, 'DELETE', `/1.0/containers/${id}`);
          if (op.status === 'success') return go('containers');
        } catch { /* shown in the operations list */ }
        reload();
      },
    }, 'Delete'));
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', id: 'tab-panel', 'aria-labelledby': `tab-${tab}` });
  add(el, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/containers' }, 'Containers'), ' / '),
    h('div', { class: 'page-head' }, h('h1', {}, c.name), stateBadge(c.state)),
    actions,
    h('nav', { class: 'tabs', 'aria-label': 'Container sections' },
      TABS.map(([t, label]) => h('a', { href: `#/containers/${id}/${t}`, id: `tab-${t}`, 'aria-current': t === tab ? 'page' : null }, label))),
    panel);
  const tabs = { overview, snapshots, console: consoleTab, usage: usageCharts, policy: policyTab };
  if (!tabs[tab]) return add(panel, h('p', {}, `There is no tab "${tab}".`));
  await tabs[tab](panel, c, { readOnly, reload });
}

function overview(el, c) {
  const rows = [
    ['State', stateBadge(c.state)], ['Address', address(c)], ['Size', size(c)], ['Processes', String(c.pids)],
    ['Bandwidth', `${c.bandwidth_mbit} Mbit/s`], ['Restart policy', c.restart_policy], ['Restarts', String(c.restarts ?? 0)],
    ['Init pid', c.pid ?? '—'], ['Last exit', c.last_exit ?? '—'], ['Seccomp', c.seccomp ?? 'plan default'],
    ['Image id', String(c.image_id)], ['Tenant', String(c.tenant_id)], ['Created', fmtTime(c.created_at)],
  ];
  add(el, h('h2', {}, 'Overview'), h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
}

async function snapshots(el, c, { readOnly, reload }) {
  add(el, h('h2', {}, 'Snapshots'));
  let list;
  try {
    list = (await get(`/1.0/containers/${c.id}/snapshots`)).snapshots;
  } catch (e) {
    add(el, errorBox(e));
    return;
  }
  const run = async (label, method, path, body) => {
    try { await operate(label, method, path, body); } catch { /* shown in the operations list */ }
    reload();
  };
  add(el, table('Snapshots', [
    ['Name', s => s.name],
    ['Taken', s => fmtTime(s.created_at)],
    ['', s => readOnly ? '' : h('div', { class: 'actions' },
      h('button', {
        class: 'secondary', 'aria-label': `Restore ${s.name}`,
        onclick: async () => {
          if (await confirmDialog(`Restore ${s.name}?`, `${c.name}'s files go back to this snapshot; what changed since is lost. The container must be stopped.`, 'Restore'))
            run(`restore ${c.name} to ${s.name}`, 'POST', `/1.0/containers/${c.id}/snapshots/${s.id}/restore`);
        },
      }, 'Restore'),
      h('button', {
        class: 'danger', 'aria-label': `Delete ${s.name}`,
        onclick: async () => {
          if (await confirmDialog(`Delete snapshot ${s.name}?`, 'This cannot be undone.', 'Delete'))
            run(`delete snapshot ${s.name}`, 'DELETE', `/1.0/containers/${c.id}/snapshots/${s.id}`);
        },
      }, 'Delete'))],
  ], list, 'No snapshots yet.'));
  if (c.state === 'running' && !readOnly) add(el, h('p', { class: 'hint' }, 'A running container\'s snapshot is crash-consistent; restoring needs it stopped.'));
  if (!readOnly)
    add(el, form('Take a snapshot', [field('Snapshot name', h('input', { name: 'name', required: true, autocapitalize: 'none' }))], 'Take snapshot',
      async v => {
        const accepted = await api('POST', `/1.0/containers/${c.id}/snapshots`, { name: v.name });
        const op = await follow(`snapshot ${c.name} as ${v.name}`, Promise.resolve(accepted));
        if (op.status !== 'success') throw Object.assign(new Error(op.error ?? op.status), { code: op.status });
        reload();
      }));
}
