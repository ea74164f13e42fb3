// Usage over time, from GET /1.0/usage: one request per refresh, the
// container's samples summed per bucket of `step` seconds (a row per bucket
// with samples, in bucket order), so every such bucket is one point: cpu as
// CPUs in use on average, memory's average, disk's maximum, network bytes
// per second each way.
import { get } from '../api.js';
import { h, add, clear, table, fmtBytes, fmtTime } from '../dom.js';
import { errorBox } from '../forms.js';
import { lineChart } from '../chart.js';

// [value, label, span (s), buckets]: span / buckets is a whole number of seconds.
export const PERIODS = [
  ['5m', 'Last 5 minutes', 300, 30],
  ['1h', 'Last hour', 3600, 30],
  ['24h', 'Last 24 hours', 86400, 48],
  ['7d', 'Last 7 days', 604800, 42],
];

// The period's buckets, and one bucket before it: a counter's increase in a
// bucket runs from the sample before (perhaps in the bucket before), so the
// rows' `to` say how long each increase took.
async function buckets(period, id) {
  const [, , span, n] = PERIODS.find(p => p[0] === period);
  const step = span / n, to = Math.floor(Date.now() / 1000), from = to - span;
  const rows = (await get(`/1.0/usage?from=${from - step}&to=${to}&step=${step}&container=${id}`)).usage
    .filter(r => r.container_id === id && r.samples);
  return { from, to, rows };
}

// [[t, value]] at each bucket's last sample; `per`: a counter as a rate over
// the time since the previous sample (the first row's own span when there
// is no row before it; none when that is a single sample).
function seriesOf(data, key, per) {
  const pts = [];
  data.rows.forEach((r, i) => {
    const secs = i ? r.to - data.rows[i - 1].to : r.to - r.from;
    if (r.to < data.from || (per && secs <= 0)) return;
    pts.push([r.to, per ? r[key] / secs : r[key]]);
  });
  return pts;
}

const rate = f => v => `${f(v)}/s`;

export async function usageCharts(el, c) {
  add(el, h('h2', {}, 'Usage'));
  const select = h('select', { id: 'usage-period', name: 'period' }, PERIODS.map(([v, label]) => h('option', { value: v, selected: v === '1h' }, label)));
  const out = h('div', { class: 'charts', 'aria-live': 'polite' });
  add(el, h('div', { class: 'field inline' }, h('label', { for: 'usage-period' }, 'Period'), select), out);
  const draw = async () => {
    add(clear(out), h('p', { class: 'loading' }, 'Loading usage…'));
    let data;
    try { data = await buckets(select.value, c.id); } catch (e) { add(clear(out), errorBox(e)); return; }
    const span = { from: data.from, to: data.to };
    add(clear(out), 
      lineChart('CPU (CPUs in use)', [{ label: 'cpu', points: seriesOf(data, 'cpu_seconds', true) }], v => (v && v < 0.01 ? v.toExponential(1) : v.toFixed(2)), span),
      lineChart('Memory', [{ label: 'average', points: seriesOf(data, 'memory_avg_bytes') },
        { label: 'maximum', points: seriesOf(data, 'memory_max_bytes') }], fmtBytes, span),
      lineChart('Disk', [{ label: 'used', points: seriesOf(data, 'disk_max_bytes') }], fmtBytes, span),
      lineChart('Network', [{ label: 'in', points: seriesOf(data, 'net_in_bytes', true) },
        { label: 'out', points: seriesOf(data, 'net_out_bytes', true) }], rate(fmtBytes), span));
  };
  select.addEventListener('change', draw);
  await draw();
}

// The tenant's usage over a period, per container (as billed).
export async function render(el) {
  add(el, h('h1', {}, 'Usage'));
  const select = h('select', { id: 'usage-period', name: 'period' }, PERIODS.map(([v, label]) => h('option', { value: v, selected: v === '24h' }, label)));
  const out = h('div', { 'aria-live': 'polite' });
  add(el, h('p', {}, 'What each container used over the period (deleted ones too). Open a container for its graphs.'),
    h('div', { class: 'field inline' }, h('label', { for: 'usage-period' }, 'Period'), select), out);
  const draw = async () => {
    const span = PERIODS.find(p => p[0] === select.value)[2];
    const to = Math.floor(Date.now() / 1000);
    let rows;
    try { rows = (await get(`/1.0/usage?from=${to - span}&to=${to}`)).usage; } catch (e) { add(clear(out), errorBox(e)); return; }
    add(clear(out), table('Usage per container', [
      ['Container', r => (r.container ? h('a', { href: `#/containers/${r.container_id}/usage` }, r.container) : `#${r.container_id} (deleted)`)],
      ['Tenant', r => String(r.tenant_id)],
      ['CPU', r => `${r.cpu_seconds.toFixed(1)} s`],
      ['Memory avg / max', r => `${fmtBytes(r.memory_avg_bytes)} / ${fmtBytes(r.memory_max_bytes)}`],
      ['Disk max', r => fmtBytes(r.disk_max_bytes)],
      ['Network in / out', r => `${fmtBytes(r.net_in_bytes)} / ${fmtBytes(r.net_out_bytes)}`],
      ['Samples', r => `${r.samples} (${fmtTime(r.from)} – ${fmtTime(r.to)})`],
    ], rows, 'No usage recorded in this period.'));
  };
  select.addEventListener('change', draw);
  await draw();
}
