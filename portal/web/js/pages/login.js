// Log in: name and password, then a TOTP code when the server asks for one.
import { api } from '../api.js';
import { h, add, field } from '../dom.js';
import { form } from '../forms.js';
import { adopt } from '../session.js';
import { go, home } from '../main.js';

let message = '';
let after = '';
export function flash(text) { message = text; }
export function next(route) { if (route && route !== 'login') after = route; }

export function render(el) {
  const totp = h('input', { name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' });
  const totpField = field('Code from your authenticator app', totp, 'Six digits; this account has two-factor authentication.');
  totpField.hidden = true;
  const f = form('Log in', [
    field('Name', h('input', { name: 'name', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    totpField,
  ], 'Log in', async values => {
    const body = { name: values.name, password: values.password };
    if (!totpField.hidden) body.totp = values.totp;
    try {
      adopt(await api('POST', '/1.0/auth/login', body));
    } catch (e) {
      if (e.code === 'totp_required') {
        totpField.hidden = false;
        totp.focus();
        e.message = 'Enter the code from your authenticator app.';
      }
      if (e.code === 'locked' || e.code === 'rate_limited')
        e.message = `${e.message}${e.retryAfter ? ` — try again in ${e.retryAfter} s` : ''}`;
      throw e;
    }
    message = '';
    const to = after || home();
    after = '';
    go(to);
  }, { class: 'login' });
  add(el, h('section', { class: 'login-box' },
    h('h1', {}, 'Log in to Sandhost'),
    message && h('p', { class: 'notice', role: 'status' }, message),
    f));
  f.querySelector('input[name=name]').focus();
}
