// The container list: state, address, sizes and live usage (cpu and memory
// from /1.0/metrics, the cpu as the share of a CPU since the last refresh).
import { get } from '../api.js';
import { h, add, clear, table, fmtBytes } from '../dom.js';
import { errorBox } from '../forms.js';
import { byContainer, parseMetrics } from '../metrics.js';
import { poll, POLL_MS } from '../poll.js';
import { role } from '../session.js';

// Only the families the list shows: the whole text is 7 state lines a
// container besides (700 KB for 1,000).
const LIVE = '/1.0/metrics?name=sandhost_container_memory_bytes&name=sandhost_container_cpu_seconds_total&name=sandhost_container_pids';

export function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, state);
}

export function address(c) {
  const a = c.addresses ?? c.address ?? [c.ipv4, c.ipv6].filter(Boolean);
  const list = Array.isArray(a) ? a : [a];
  return list.length ? list.map(x => (typeof x === 'object' ? x.address : x)).join(', ') : '—';
}

export function size(c) {
  return `${c.cpu_millis / 1000} CPU · ${c.memory_mib} MiB · ${c.disk_mib} MiB disk`;
}

export async function render(el) {
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading' }, 'Loading containers…'));
  const updated = h('p', { class: 'hint' });
  add(el, 
    h('div', { class: 'page-head' },
      h('h1', {}, 'Containers'),
      role() !== 'auditor' && h('a', { class: 'button', href: '#/containers/new' }, 'Create a container')),
    body, updated);
  let last = null;
  const refresh = async () => {
    let list, live = {};
    try {
      list = (await get('/1.0/containers')).containers;
    } catch (e) {
      add(clear(body), errorBox(e));
      return;
    }
    try {
      live = byContainer(parseMetrics(await get(LIVE, { raw: true })));
    } catch { /* usage is a bonus: the list stands without it */ }
    const now = performance.now();
    const usage = c => {
      const m = live[c.id];
      if (!m || c.state !== 'running') return '—';
      const prev = last?.live[c.id];
      const cpu = prev && prev.cpu !== undefined ? ((m.cpu - prev.cpu) / ((now - last.at) / 1000)) * 100 : null;
      return `${cpu === null ? '…' : `${Math.max(0, cpu).toFixed(1)}%`} CPU · ${fmtBytes(m.memory)}`;
    };
    const cols = [
      ['Name', c => h('a', { href: `#/containers/${c.id}` }, c.name)],
      ['State', c => stateBadge(c.state)],
      ['Address', address],
      ['Size', size],
      ['Live usage', usage],
    ];
    if (role() === 'admin' || role() === 'auditor') cols.splice(1, 0, ['Tenant', c => String(c.tenant_id)]);
    add(clear(body), table('Containers', cols, list, 'No containers yet.'));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
    last = { at: now, live };
  };
  await refresh();
  poll(body, refresh);
}
