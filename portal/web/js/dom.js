// DOM building. Server strings only ever reach the page as text nodes or
// attribute values: there is no innerHTML anywhere in the UI.

// h('button', {class: 'x', onclick: f, 'aria-label': 'y'}, 'text', child...)
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

export function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function fmtTime(t) {
  if (t === null || t === undefined) return '—';
  const d = new Date(t * 1000);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

// A table of rows: columns are [heading, row => cell content]; a heading of
// '' is the row's buttons, named for screen readers only.
export function table(caption, columns, rows, empty = 'None yet.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', { scope: 'col' }, head || h('span', { class: 'sr-only' }, 'Actions'))))),
      h('tbody', {}, rows.map(r => h('tr', {}, columns.map(([head, cell]) => h('td', { 'data-label': head }, cell(r))))))));
}

let uid = 0;
// A labelled input; the error slot beside it is found by field name.
export function field(label, input, hint) {
  const id = input.id || (input.id = `f${++uid}`);
  const name = input.getAttribute('name');
  const err = h('p', { class: 'field-error', id: `${id}-err`, 'data-error-for': name, hidden: true });
  input.setAttribute('aria-describedby', `${id}-err${hint ? ` ${id}-hint` : ''}`);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    err);
}

// showModal(dlg, first): dlg on the page as a modal dialog, `first` focused.
// The browser makes the page behind it inert, closes it on Esc and gives the
// focus back to what had it; Tab and Shift+Tab also wrap around inside it
// (the browser would move past its last control to the page's end).
export function showModal(dlg, first) {
  dlg.addEventListener('keydown', e => {
    if (e.key !== 'Tab') return;
    const stops = [...dlg.querySelectorAll('button, input, select, textarea, a[href]')].filter(x => !x.disabled && x.getClientRects().length);
    const [head, tail] = [stops[0], stops.at(-1)];
    if (!head || document.activeElement === (e.shiftKey ? head : tail) || !dlg.contains(document.activeElement)) {
      e.preventDefault();
      (e.shiftKey ? tail : head)?.focus();
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  first.focus();
}

// Confirmation through a modal <dialog> (keyboard: Esc cancels, focus trapped).
export function confirmDialog(title, message, action = 'Confirm') {
  return new Promise(resolve => {
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': 'dlg-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'dlg-title' }, title),
        h('p', {}, message),
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', class: 'secondary' }, 'Cancel'),
          h('button', { value: 'ok', class: 'danger' }, action))));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    showModal(dlg, dlg.querySelector('button.secondary'));
  });
}

// el.append for kids that may be null, false or arrays (left out / flattened).
export function add(el, ...kids) { return append(el, kids); }
