// Forms: a busy state while sending, and the server's refusal shown in
// place: at the field it names, else at the top of the form.
import { h, add, clear } from './dom.js';

// An error as the UI says it: the message, then the code and status.
export const errorText = err => `${err.message}${err.code ? ` (${err.code}${err.status ? `, ${err.status}` : ''})` : ''}`;

export function formError(form, err) {
  clearErrors(form);
  const slot = err.field && form.querySelector(`[data-error-for="${CSS.escape(err.field)}"]`);
  const text = errorText(err);
  if (slot) {
    slot.hidden = false;
    slot.textContent = text;
    const input = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  }
  const box = form.querySelector('.form-error');
  box.hidden = false;
  box.textContent = slot ? `Refused: see the field ${err.field}.` : text;
  if (!slot) box.focus();
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) { el.hidden = true; el.textContent = ''; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-error');
  if (box) { box.hidden = true; box.textContent = ''; }
}

// form(props, fields..., submitLabel, onsubmit(values, form)) with a
// status line and a general error box.
export function form(label, children, submit, onsubmit, props = {}) {
  const status = h('p', { class: 'form-status', role: 'status' });
  const button = h('button', { type: 'submit' }, submit);
  const f = h('form', { 'aria-label': label, novalidate: true, ...props },
    h('p', { class: 'form-error', role: 'alert', tabindex: '-1', hidden: true }),
    children, h('div', { class: 'actions' }, button), status);
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    clearErrors(f);
    const values = Object.fromEntries(new FormData(f).entries());
    button.disabled = true;
    const busy = `${submit}…`;
    status.textContent = busy;
    try {
      await onsubmit(values, f);
      // What the handler said it did stays (e.g. "Password changed").
      if (status.textContent === busy) status.textContent = '';
    } catch (e) {
      status.textContent = '';
      formError(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

// A note that something failed, for page loads.
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, errorText(err));
}

export function setBusy(el, text) { add(clear(el), h('p', { class: 'loading', role: 'status' }, text)); }

// A number or nothing: the server gets only what the user filled in.
export function ints(values, names) {
  const out = {};
  for (const n of names) if (values[n] !== undefined && values[n] !== '') out[n] = Number(values[n]);
  return out;
}
