// The account: password change, TOTP enrolment (the otpauth URI and secret
// shown as text, to type or paste into an authenticator) and disabling it.
import { api } from '../api.js';
import { h, add, clear, field, confirmDialog } from '../dom.js';
import { form } from '../forms.js';
import { session, restore } from '../session.js';
import { go } from '../main.js';

export async function render(el) {
  const me = session.user;
  add(el, h('h1', {}, 'Account'),
    session.mustEnrollTotp && h('p', { class: 'notice', role: 'alert' }, 'Your role requires two-factor authentication: enrol below before using the portal.'),
    h('dl', { class: 'facts' }, h('dt', {}, 'Name'), h('dd', {}, me.name), h('dt', {}, 'Role'), h('dd', {}, me.role),
      h('dt', {}, 'Tenant'), h('dd', {}, me.tenant_id ? String(me.tenant_id) : '—')));

  add(el, h('h2', {}, 'Password'), form('Change password', [
    field('Current password', h('input', { name: 'current_password', type: 'password', autocomplete: 'current-password', required: true })),
    field('New password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true }), 'At least 10 characters.'),
    field('New password again', h('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true })),
  ], 'Change password', async (v, f) => {
    if (v.password !== v.again) throw Object.assign(new Error('the two new passwords differ'), { field: 'again' });
    await api('PUT', `/1.0/users/${me.id}/password`, { password: v.password, current_password: v.current_password });
    f.reset();
    f.querySelector('.form-status').textContent = 'Password changed; your other sessions were logged out.';
  }));

  const totp = h('section', { 'aria-labelledby': 'totp-h' });
  add(el, totp);
  const drawTotp = async () => {
    await restore();
    add(clear(totp), h('h2', { id: 'totp-h' }, 'Two-factor authentication'));
    if (session.user.totp_enabled) {
      add(totp, h('p', {}, 'On: logging in asks for a code from your authenticator app.'),
        h('button', {
          class: 'danger', onclick: async ev => {
            if (!await confirmDialog('Turn two-factor authentication off?', 'Logging in will need only your password.', 'Turn off')) return;
            ev.target.disabled = true;
            try { await api('DELETE', `/1.0/users/${me.id}/totp`); } catch (e) { add(totp, h('p', { class: 'error', role: 'alert' }, e.message)); return; }
            drawTotp();
          },
        }, 'Turn off'));
      return;
    }
    const enrol = h('div');
    add(totp, h('p', {}, 'Off.'), enrol, h('button', {
      onclick: async ev => {
        ev.target.disabled = true;
        let t;
        try { t = await api('POST', `/1.0/users/${me.id}/totp`, {}); } catch (e) { add(enrol, h('p', { class: 'error', role: 'alert' }, e.message)); ev.target.disabled = false; return; }
        ev.target.hidden = true;
        add(clear(enrol), 
          h('p', {}, 'Add this account to your authenticator app with the URI or the secret, then enter the code it shows.'),
          h('dl', { class: 'facts' }, h('dt', {}, 'URI'), h('dd', {}, h('code', { class: 'secret', id: 'totp-uri' }, t.uri)),
            h('dt', {}, 'Secret'), h('dd', {}, h('code', { class: 'secret', id: 'totp-secret' }, t.secret))),
          form('Confirm two-factor authentication', [field('Code', h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '6' }))],
            'Turn on', async v => {
              await api('POST', `/1.0/users/${me.id}/totp/confirm`, { code: v.code });
              const must = session.mustEnrollTotp;
              await drawTotp();
              if (must && !session.mustEnrollTotp) go('containers');
            }));
        enrol.querySelector('input').focus();
      },
    }, 'Turn on'));
  };
  await drawTotp();
}
