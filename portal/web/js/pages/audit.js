// The audit log: newest first, paged with before=; the search, the tenant
// and "refused only" are sandhostd's (q=, tenant=, failed=), so they reach
// entries no page has loaded yet.
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
  let asked = 0;   // the newest request: an older answer arriving late is dropped
  const show = () => {
    add(clear(out), h('p', { class: 'hint' }, `${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}` +
      (q.value.trim() || failed.checked ? ' match' : '') + (more.hidden ? '' : ' so far')), table('Audit entries', [
      ['When', e => fmtTime(e.at)],
      ['Who', e => `${e.principal} (${e.role})`],
      ['Tenant', e => (e.tenant_id ?? '—')],
      ['From', e => e.source],
      ['Request', e => h('code', {}, `${e.method} ${e.path}`)],
      ['Status', e => h('span', { class: e.status >= 400 ? 'badge bad' : 'badge ok' }, String(e.status))],
      ['Detail', e => e.detail ?? ''],
    ], entries, 'No entries match.'));
  };
  const load = async (older = false) => {
    const params = new URLSearchParams({ limit: '200' });
    if (tenant && tenant.value) params.set('tenant', tenant.value);
    if (q.value.trim()) params.set('q', q.value.trim());
    if (failed.checked) params.set('failed', '1');
    if (older && entries.length) params.set('before', String(entries[entries.length - 1].id));
    const mine = ++asked;
    try {
      const got = (await get(`/1.0/audit?${params}`)).entries;
      if (mine !== asked) return;
      entries = older ? entries.concat(got) : got;
      more.hidden = got.length < 200;
    } catch (e) { if (mine === asked) add(clear(out), errorBox(e)); return; }
    show();
  };
  let typing;
  q.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => load(), 250); });
  failed.addEventListener('change', () => load());
  if (tenant) tenant.addEventListener('change', () => load());
  more.addEventListener('click', () => load(true));
  add(el, h('div', { class: 'filters' }, field('Search', q, 'Up to 6 words; an entry matches when it has them all.'), tenant && field('Tenant id', tenant),
    h('div', { class: 'field check' }, failed, h('label', { for: failed.id = 'audit-failed' }, 'Refused only'))), out, more);
  await load();
}
