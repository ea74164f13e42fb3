// Create a container: name, image, sizes within the plan, SSH public keys
// (sent with the create: its operation writes them to the container's
// /root/.ssh/authorized_keys, and a bad line is refused at the field).
import { api, get } from '../api.js';
import { h, add, field, clear } from '../dom.js';
import { form, ints } from '../forms.js';
import { follow } from '../ops.js';
import { isAdmin } from '../session.js';
import { go } from '../main.js';

const SIZES = [
  ['cpu_millis', 'CPU (thousandths of a CPU)'],
  ['memory_mib', 'Memory (MiB)'],
  ['disk_mib', 'Disk (MiB)'],
  ['pids', 'Processes'],
];

export async function render(el) {
  const [images, tenants, plans] = await Promise.all([get('/1.0/images'), get('/1.0/tenants'), get('/1.0/plans')]);
  const planOf = tid => {
    const t = tenants.tenants.find(x => x.id === Number(tid));
    return t && plans.plans.find(p => p.id === t.plan_id);
  };
  const tenantSel = isAdmin() && h('select', { name: 'tenant_id', required: true },
    tenants.tenants.map(t => h('option', { value: t.id }, `${t.name} (${t.id})`)));
  const planNote = h('p', { class: 'hint', 'aria-live': 'polite' });
  const inputs = SIZES.map(([n]) => h('input', { name: n, type: 'number', min: '1', inputmode: 'numeric' }));
  const showPlan = () => {
    const p = planOf(tenantSel ? tenantSel.value : tenants.tenants[0]?.id);
    add(clear(planNote), p ? `Plan ${p.name}: at most ${p.cpu_millis} millis CPU, ${p.memory_mib} MiB memory, ${p.disk_mib} MiB disk, ${p.pids} processes per container; ${p.max_containers} containers in all. Empty fields take the plan's sizes.` : 'No plan found for this tenant.');
    SIZES.forEach(([n], i) => { if (p) { inputs[i].max = p[n]; inputs[i].placeholder = `${p[n]} (plan)`; } });
  };
  if (tenantSel) tenantSel.addEventListener('change', showPlan);
  const f = form('Create a container', [
    tenantSel && field('Tenant', tenantSel),
    field('Name', h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9._-]{0,62}', autocapitalize: 'none', spellcheck: 'false' }),
      'Lower-case letters, digits, ".", "_" and "-"; up to 63.'),
    field('Image', h('select', { name: 'image' }, images.images.map(i => h('option', { value: i.name }, `${i.name}${i.description ? ` — ${i.description}` : ''}`)))),
    h('fieldset', {}, h('legend', {}, 'Size'), planNote, SIZES.map(([, label], i) => field(label, inputs[i]))),
    field('Restart policy', h('select', { name: 'restart_policy' }, ['never', 'on-failure', 'always'].map(v => h('option', { value: v }, v)))),
    field('SSH public keys (optional)', h('textarea', { name: 'ssh_authorized_keys', rows: '3', spellcheck: 'false', placeholder: 'ssh-ed25519 AAAA… you@laptop' }),
      'One key a line, as in a .pub file. Written to /root/.ssh/authorized_keys in the container, owned by its root, as it is created.'),
  ], 'Create', async values => {
    const body = { name: values.name, image: values.image, restart_policy: values.restart_policy, ...ints(values, SIZES.map(([n]) => n)) };
    if (tenantSel) body.tenant_id = Number(values.tenant_id);
    if (values.ssh_authorized_keys.trim()) body.ssh_authorized_keys = values.ssh_authorized_keys;
    // A refusal is shown at the form; the operation, once accepted, in the list.
    const accepted = await api('POST', '/1.0/containers', body);
    const op = await follow(`create ${values.name}`, Promise.resolve(accepted));
    if (op.status !== 'success') throw Object.assign(new Error(`create failed: ${op.error}`), { code: op.status });
    go(`containers/${op.container_id}`);
  });
  add(el, h('h1', {}, 'Create a container'), f);
  showPlan();
}
