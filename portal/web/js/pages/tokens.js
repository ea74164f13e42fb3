// API tokens: create (the secret shown once) and revoke.
import { api, get } from '../api.js';
import { h, add, clear, table, fmtTime, field, confirmDialog } from '../dom.js';
import { errorBox, form } from '../forms.js';
import { session } from '../session.js';

export async function render(el) {
  add(el, h('h1', {}, 'API tokens'), h('p', {}, 'Tokens let the sandhost CLI and scripts act as you (Authorization: Bearer …).'));
  const shown = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const load = async () => {
    let tokens;
    try { tokens = (await get('/1.0/tokens')).tokens; } catch (e) { add(clear(list), errorBox(e)); return; }
    add(clear(list), table('API tokens', [
      ['Name', t => t.name],
      ['User', t => String(t.user_id)],
      ['Created', t => fmtTime(t.created_at)],
      ['Last used', t => fmtTime(t.last_used_at)],
      ['', t => h('button', {
        class: 'danger', 'aria-label': `Revoke ${t.name}`,
        onclick: async ev => {
          if (!await confirmDialog(`Revoke ${t.name}?`, 'Programs using it lose access at once.', 'Revoke')) return;
          ev.target.disabled = true;
          try { await api('DELETE', `/1.0/tokens/${t.id}`); } catch (e) { list.prepend(errorBox(e)); ev.target.disabled = false; return; }
          load();
        },
      }, 'Revoke')],
    ], tokens, 'No tokens.'));
  };
  add(el, form('New token', [field('Token name', h('input', { name: 'name', required: true, autocapitalize: 'none' }))], 'Create token', async (v, f) => {
    const t = await api('POST', `/1.0/users/${session.user.id}/tokens`, { name: v.name });
    const secret = h('code', { class: 'secret', id: 'token-secret' }, t.token);
    add(clear(shown), h('div', { class: 'notice secret-box', role: 'status' },
      h('p', {}, `Token ${t.name} — copy it now, it is shown only this once:`), secret,
      h('button', { class: 'secondary', onclick: () => navigator.clipboard?.writeText(t.token) }, 'Copy')));
    f.reset();
    load();
  }), shown, h('h2', {}, 'Tokens'), list);
  await load();
}
