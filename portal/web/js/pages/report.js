// The security audit report: the host, the summary and the findings with
// their severity and fix, filterable by severity and text.
import { get } from '../api.js';
import { h, add, clear, table, fmtTime, field } from '../dom.js';
import { errorBox } from '../forms.js';

const SEVERITIES = ['high', 'medium', 'low', 'info'];

export async function render(el) {
  add(el, h('h1', {}, 'Audit report'), h('p', {}, 'Every container checked against the kernel: what is declared and what is in force.'));
  const out = h('div', { 'aria-live': 'polite' }, h('p', { class: 'loading', role: 'status' }, 'Running the audit…'));
  add(el, out);
  let r;
  try { r = await get('/1.0/audit/report?format=json'); } catch (e) { add(clear(out), errorBox(e)); return; }
  const sev = h('select', { name: 'severity' }, h('option', { value: '' }, 'all'), SEVERITIES.map(s => h('option', { value: s }, s)));
  const q = h('input', { name: 'q', type: 'search' });
  const list = h('div');
  const show = () => {
    const words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = (r.findings ?? []).filter(f => (!sev.value || f.severity === sev.value) &&
      words.every(w => `${f.scope} ${f.check} ${f.detail} ${f.fix}`.toLowerCase().includes(w)));
    add(clear(list), table('Findings', [
      ['Severity', f => h('span', { class: `badge sev-${f.severity}` }, f.severity)],
      ['Scope', f => f.scope], ['Check', f => f.check], ['Finding', f => f.detail], ['Fix', f => f.fix ?? ''],
    ], rows, 'No findings match.'));
  };
  sev.addEventListener('change', show);
  q.addEventListener('input', show);
  const s = r.summary ?? {};
  add(clear(out), 
    h('p', {}, `Generated ${fmtTime(r.generated_at)} over ${s.tenants ?? '?'} tenants and ${s.containers ?? '?'} containers.`),
    h('ul', { class: 'summary' }, SEVERITIES.map(k => h('li', { class: `badge sev-${k}` }, `${s[k] ?? 0} ${k}`))),
    h('details', {}, h('summary', {}, 'Host'), h('dl', { class: 'facts' },
      Object.entries(r.host ?? {}).map(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]))),
    h('h2', {}, 'Findings'),
    h('div', { class: 'filters' }, field('Severity', sev), field('Search', q)),
    list);
  show();
}
