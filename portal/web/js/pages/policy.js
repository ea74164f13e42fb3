// The network policy editor: the text with line numbers; the server's
// error ("policy: line 3, column 9: ...") is shown under the text and at
// its line, and the cursor put there.
import { api, get } from '../api.js';
import { h, add, clear } from '../dom.js';
import { errorBox, formError, clearErrors } from '../forms.js';
import { follow } from '../ops.js';

export async function policyTab(el, c, { readOnly, reload }) {
  add(el, h('h2', {}, 'Network policy'));
  let p;
  try { p = await get(`/1.0/containers/${c.id}/policy`); } catch (e) { add(el, errorBox(e)); return; }
  const text = h('textarea', {
    name: 'policy', id: 'policy-text', rows: '14', spellcheck: 'false', autocapitalize: 'none', wrap: 'off',
    'aria-describedby': 'policy-help policy-text-err', readonly: readOnly,
  });
  text.value = p.policy;
  const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
  const lineErr = h('p', { class: 'field-error', id: 'policy-text-err', 'data-error-for': 'policy', hidden: true, role: 'alert' });
  let bad = 0;
  const numbers = () => {
    clear(gutter);
    const n = text.value.split('\n').length;
    for (let i = 1; i <= n; i++) add(gutter, h('span', { class: i === bad ? 'bad-line' : null }, `${i}\n`));
    gutter.scrollTop = text.scrollTop;
  };
  text.addEventListener('input', () => { bad = 0; numbers(); });
  text.addEventListener('scroll', () => { gutter.scrollTop = text.scrollTop; });
  numbers();
  const status = h('p', { class: 'form-status', role: 'status' });
  const save = async (policy, label) => {
    clearErrors(f);
    bad = 0;
    status.textContent = 'Saving…';
    try {
      const res = await api('PUT', `/1.0/containers/${c.id}/policy`, { policy });
      if (res && res.operation) {
        const op = await follow(`${label} on ${c.name}`, Promise.resolve(res));
        if (op.status !== 'success') throw Object.assign(new Error(op.error ?? op.status), { code: op.status, field: 'policy' });
      }
      status.textContent = 'Saved.';
      if (policy === null) reload();
    } catch (e) {
      status.textContent = '';
      const m = e.message.match(/line (\d+)(?:, column (\d+))?/);
      if (m) {
        bad = Number(m[1]);
        const lines = text.value.split('\n');
        const start = lines.slice(0, bad - 1).reduce((a, l) => a + l.length + 1, 0) + Math.max(0, Number(m[2] ?? 1) - 1);
        formError(f, { ...e, message: e.message, field: 'policy' });
        text.setSelectionRange(start, start + (lines[bad - 1] ?? '').length - Math.max(0, Number(m[2] ?? 1) - 1));
      } else {
        formError(f, e);
      }
      numbers();
    }
  };
  const f = h('form', { 'aria-label': 'Network policy', novalidate: true },
    h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true }),
    h('p', { id: 'policy-help', class: 'hint' },
      p.plan_default ? 'This is the plan\'s default policy: saving makes it the container\'s own. ' : '',
      'One statement a line: default in|out allow|deny; allow|deny in|out [tcp|udp|icmp|icmpv6] DEST [port P[-Q]]; forward tcp|udp PUBLIC to PORT; # comments. ',
      c.state === 'running' ? 'The running container gets it at once.' : ''),
    h('label', { for: 'policy-text' }, 'Policy text'),
    h('div', { class: 'editor' }, gutter, text),
    lineErr,
    !readOnly && h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Save policy'),
      !p.plan_default && h('button', { type: 'button', class: 'secondary', onclick: () => save(null, 'policy reset') }, 'Use the plan\'s default')),
    status);
  f.addEventListener('submit', ev => { ev.preventDefault(); save(text.value, 'policy'); });
  add(el, f);
}
