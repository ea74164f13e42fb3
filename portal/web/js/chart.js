// A line chart on <canvas>, drawn by hand: time on x, one or more series on
// y, each point a dot (a lone sample still shows). The same numbers are in
// a table beside it for screen readers and for copying.
import { h } from './dom.js';

const COLORS = ['#2563eb', '#d97706', '#059669', '#db2777'];

// series: [{label, points: [[t, v]...]}]; format(v) labels the y axis.
export function lineChart(title, series, format, { from, to }) {
  const canvas = h('canvas', { class: 'chart', role: 'img', width: '600', height: '220' });
  const n = series.reduce((a, s) => a + s.points.length, 0);
  canvas.dataset.points = String(n);
  canvas.setAttribute('aria-label', `${title}: ${n ? series.map(s => `${s.label} up to ${format(Math.max(...s.points.map(p => p[1])))}`).join(', ') : 'no data in this period'}`);
  const draw = () => {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 220;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
    const g = canvas.getContext('2d');
    g.scale(dpr, dpr);
    const css = getComputedStyle(canvas);
    const ink = css.color || '#222';
    const pad = { l: 64, r: 10, t: 10, b: 24 };
    const pw = w - pad.l - pad.r, ph = hgt - pad.t - pad.b;
    let max = 0;
    for (const s of series) for (const [, v] of s.points) max = Math.max(max, v);
    max = max > 0 ? max * 1.1 : 1;
    const x = t => pad.l + ((t - from) / Math.max(1, to - from)) * pw;
    const y = v => pad.t + ph - (v / max) * ph;
    g.clearRect(0, 0, w, hgt);
    g.font = '11px system-ui, sans-serif';
    g.strokeStyle = 'rgba(127,127,127,.35)';
    g.fillStyle = ink;
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = (max / 4) * i, yy = Math.round(y(v)) + 0.5;
      g.beginPath(); g.moveTo(pad.l, yy); g.lineTo(pad.l + pw, yy); g.stroke();
      g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(format(v), pad.l - 6, yy);
    }
    g.textAlign = 'center'; g.textBaseline = 'top';
    for (let i = 0; i <= 3; i++) {
      const t = from + ((to - from) / 3) * i;
      g.fillText(new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), Math.min(Math.max(x(t), pad.l + 20), w - 24), pad.t + ph + 6);
    }
    series.forEach((s, i) => {
      g.strokeStyle = g.fillStyle = COLORS[i % COLORS.length];
      g.lineWidth = 2;
      g.beginPath();
      s.points.forEach(([t, v], j) => (j ? g.lineTo(x(t), y(v)) : g.moveTo(x(t), y(v))));
      g.stroke();
      for (const [t, v] of s.points) { g.beginPath(); g.arc(x(t), y(v), 3, 0, Math.PI * 2); g.fill(); }
    });
    if (!n) {
      g.fillStyle = ink; g.textAlign = 'center'; g.textBaseline = 'middle';
      g.fillText('No samples in this period', pad.l + pw / 2, pad.t + ph / 2);
    }
    canvas.dataset.drawn = '1';
  };
  requestAnimationFrame(draw);
  const legend = h('ul', { class: 'legend' }, series.map((s, i) => h('li', { class: `series-${i % COLORS.length}` }, s.label)));
  const rows = series.flatMap(s => s.points.map(([t, v]) => h('tr', {}, h('td', {}, s.label), h('td', {}, new Date(t * 1000).toLocaleTimeString()), h('td', {}, format(v)))));
  return h('figure', { class: 'chart-box' },
    h('figcaption', {}, title), canvas, legend,
    h('details', {}, h('summary', {}, `Data (${n} points)`),
      h('table', { class: 'chart-data' }, h('thead', {}, h('tr', {}, h('th', {}, 'Series'), h('th', {}, 'Time'), h('th', {}, 'Value'))), h('tbody', {}, rows))));
}
