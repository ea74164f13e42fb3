// The audit log: newest first, paged with before=, searchable here (the
// API filters by tenant; the text search runs over the loaded entries).
import { get } from '../api.js';
import { h, add, clear, table, fmtTime, field } from '../dom.js';
import { errorBox } from '../forms.js';
import { canRead } from '../session.js';

export async function render(el) {
  add(el, h('h1', {}, 'Audit log'),
    h('p', {}, canRead() ? 'Every change on the platform, refused ones included.' : 'Every change in your tenant, refused ones included.'));
  const q = h('input', { name: 'q', type: 'search', placeholder: 'user, path, status, message…' });
  const failed = h('input', { name: 'failed', type: 'checkbox' });
  const tenant = canRead() && h('input', { name: 'tenant', type: 'number', min: '1', inputmode: 'numeric' });
  const out = h('div', { 'aria-live': 'polite' });
  const more = h('button', { class: 'secondary', hidden: true }, 'Load older entries');
  let entries = [];
  const show = () => {
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = entries.filter(e => (!failed.checked || e.status >= 400) &&
      words.every(w => [e.principal, e.role, e.source, e.method, e.path, String(e.status), e.detail, String(e.tenant_id)].join(' ').toLowerCase().includes(w)));
    add(clear(out), h('p', { class: 'hint' }, `${rows.length} of ${entries.length} loaded entries`), table('Audit entries', [
      ['When', e => fmtTime(e.at)],
      ['Who', e => `${e.principal} (${e.role})`],
      ['Tenant', e => (e.tenant_id ?? '—')],
      ['From', e => e.source],
      ['Request', e => h('code', {}, `${e.method} ${e.path}`)],
      ['Status', e => h('span', { class: e.status >= 400 ? 'badge bad' : 'badge ok' }, String(e.status))],
      ['Detail', e => e.detail ?? ''],
    ], rows, 'No entries match.'));
  };
  const load = async (older = false) => {
    const params = new URLSearchParams({ limit: '200' });
    if (tenant && tenant.value) params.set('tenant', tenant.value);
    if (older && entries.length) params.set('before', String(entries[entries.length - 1].id));
    try {
      const got = (await get(`/1.0/audit?${params}`)).entries;
      entries = older ? entries.concat(got) : got;
      more.hidden = got.length < 200;
    } catch (e) { add(clear(out), errorBox(e)); return; }
    show();
  };
  q.addEventListener('input', show);
  failed.addEventListener('change', show);
  if (tenant) tenant.addEventListener('change', () => load());
  more.addEventListener('click', () => load(true));
  add(el, h('div', { class: 'filters' }, field('Search', q), tenant && field('Tenant id', tenant),
    h('div', { class: 'field check' }, failed, h('label', { for: failed.id = 'audit-failed' }, 'Refused only'))), out, more);
  await load();
}
