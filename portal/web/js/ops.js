// Pending operations: every long change (202 + operation) is followed here
// until it ends; its status stays visible, a failure with its error until
// dismissed.
import { api, get } from './api.js';
import { h, add, clear } from './dom.js';

const list = () => document.getElementById('ops');
const DONE = new Set(['success', 'failure', 'cancelled']);

function render(item) {
  const op = item.op;
  const steps = op && op.steps ? ` (${op.steps_done ?? 0}/${op.steps} steps)` : '';
  const status = op ? op.status : 'sending';
  item.el.className = `op op-${status}`;
  add(clear(item.el), 
    h('span', { class: 'op-label' }, item.label),
    h('span', { class: 'op-status' }, `: ${status}${DONE.has(status) ? '' : steps}`),
    op && op.error ? h('span', { class: 'op-error' }, ` — ${op.error}`) : null,
    status === 'failure' || status === 'cancelled'
      ? h('button', { class: 'link', onclick: () => item.el.remove(), 'aria-label': `Dismiss ${item.label}` }, 'Dismiss')
      : null);
}

// follow(label, promise of a 202 body) -> the finished operation; throws
// ApiError when the request itself was refused (and shows it).
export async function follow(label, request) {
  const item = { label, op: null, el: h('li', {}) };
  list().append(item.el);
  render(item);
  let res;
  try {
    res = await request;
  } catch (e) {
    item.op = { status: 'failure', error: `${e.message}${e.field ? ` (field ${e.field})` : ''}` };
    render(item);
    throw e;
  }
  item.op = res && res.operation ? res.operation : { status: 'success' };
  render(item);
  while (!DONE.has(item.op.status)) {
    try {
      item.op = await get(`/1.0/operations/${item.op.id}/wait?timeout=2`);
    } catch (e) {
      item.op = { ...item.op, status: 'failure', error: `lost track of the operation: ${e.message}` };
    }
    render(item);
  }
  if (item.op.status === 'success') setTimeout(() => item.el.remove(), 4000);
  return item.op;
}

// A 202 change through follow(); resolves to the operation.
export const operate = (label, method, path, body) => follow(label, api(method, path, body));
