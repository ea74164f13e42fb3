// Pages that stay current: refresh() again every POLL_MS while the page is
// shown. Lists come back through api.js's kept copies (If-None-Match; the
// very object kept when the server answered 304), so a page compares what
// it got with what it drew and redraws only on a change.
import { h } from './dom.js';
import { errorText } from './forms.js';
import { onLeave } from './main.js';

export const POLL_MS = 5000;

// poll(node, refresh): refresh() every POLL_MS until the route changes or
// `node` leaves the document; none while the tab is hidden, one at once
// when it is shown again. A refresh still running is not started twice.
export function poll(node, refresh) {
  let timer = null, running = false;
  const tick = async () => {
    if (!node.isConnected) { stop(); return; }
    if (running) return;
    running = true;
    try { await refresh(); } finally { running = false; }
  };
  const start = () => { timer ??= setInterval(tick, POLL_MS); };
  const stop = () => { clearInterval(timer); timer = null; };
  const shown = () => { if (document.hidden) stop(); else { tick(); start(); } };
  document.addEventListener('visibilitychange', shown);
  onLeave(() => { stop(); document.removeEventListener('visibilitychange', shown); });
  if (!document.hidden) start();
}

// A line for polls that failed: the error is said once (the same one again
// is not announced anew) and goes when a poll succeeds.
export function pollStatus() {
  const el = h('p', { class: 'error poll-status', 'aria-live': 'polite' });
  return {
    el,
    failed(e) {
      const text = `Could not refresh: ${errorText(e)}`;
      if (el.textContent !== text) el.textContent = text;
    },
    ok() { if (el.textContent) el.textContent = ''; },
  };
}
