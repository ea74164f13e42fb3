// The web console: xterm.js over the exec websocket with a terminal
// (tty=1). Binary messages are the terminal's bytes each way; text messages
// are control: {"resize": [cols, rows]} from us, {"exit": code} from the
// server before it closes (docs/hostd.md, "exec").
import { h, add } from '../dom.js';
import { onLeave } from '../main.js';

// xterm.js (vendor/, copied from npm at build time) is most of the UI's
// bytes: it is fetched when a console first opens, not with every page.
let xterm;
function loadXterm() {
  const one = (tag, attrs) => new Promise((resolve, reject) => {
    const e = document.createElement(tag);
    Object.assign(e, attrs, { onload: resolve, onerror: () => reject(new Error(`could not load ${attrs.src ?? attrs.href}`)) });
    document.head.append(e);
  });
  xterm ??= Promise.all([
    one('link', { rel: 'stylesheet', href: 'vendor/xterm.css' }),
    one('script', { src: 'vendor/xterm.js' }).then(() => one('script', { src: 'vendor/addon-fit.js' })),
  ]).catch(e => { xterm = null; throw e; });
  return xterm;
}

export async function consoleTab(el, c, { readOnly }) {
  add(el, h('h2', {}, 'Console'));
  if (c.state !== 'running') {
    add(el, h('p', { class: 'notice' }, `The console needs the container running; it is ${c.state}.`));
    return;
  }
  if (readOnly) {
    add(el, h('p', { class: 'notice' }, 'Auditors read; they do not get a shell.'));
    return;
  }
  const status = h('p', { class: 'console-status', role: 'status', 'aria-live': 'polite', tabindex: '-1' }, 'Connecting…');
  const screen = h('div', { class: 'terminal', id: 'terminal' });
  const reconnect = h('button', { class: 'secondary', hidden: true }, 'Reconnect');
  add(el, h('div', { class: 'console-bar' }, status, reconnect), screen,
    h('p', { class: 'hint' }, 'The terminal takes the keyboard while focused; Ctrl+] or Tab out of the page with the mouse to leave it.'));

  try {
    await loadXterm();
  } catch (e) {
    status.textContent = `The terminal could not be loaded: ${e.message}`;
    return;
  }
  if (!screen.isConnected) return;   /* left the tab meanwhile */
  const term = new window.Terminal({ cursorBlink: true, convertEol: false, fontSize: 14, scrollback: 5000 });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  fit.fit();
  // Ctrl+] leaves the terminal (a keyboard way out of a focus trap).
  term.attachCustomKeyEventHandler(ev => {
    if (ev.type === 'keydown' && ev.ctrlKey && ev.key === ']') { reconnect.hidden ? status.focus() : reconnect.focus(); return false; }
    return true;
  });
  const enc = new TextEncoder();
  let ws = null;
  const send = data => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(data); };
  term.onData(d => send(enc.encode(d)));
  term.onBinary(d => send(Uint8Array.from(d, ch => ch.charCodeAt(0))));
  term.onResize(({ cols, rows }) => send(JSON.stringify({ resize: [cols, rows] })));

  const connect = () => {
    reconnect.hidden = true;
    status.textContent = 'Connecting…';
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}/1.0/containers/${c.id}/exec?tty=1&cols=${term.cols}&rows=${term.rows}`);
    ws.binaryType = 'arraybuffer';
    let exit = null;
    ws.onopen = () => { status.textContent = `Connected to ${c.name} (${term.cols}×${term.rows}).`; term.focus(); };
    ws.onmessage = ev => {
      if (typeof ev.data !== 'string') return term.write(new Uint8Array(ev.data));
      try {
        const msg = JSON.parse(ev.data);
        if ('exit' in msg) exit = msg.exit;
      } catch { /* not control: ignore */ }
    };
    ws.onclose = ev => {
      status.textContent = exit !== null ? `The shell exited with status ${exit}.`
        : ev.code === 1000 ? 'Closed.' : `The connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''}); is the container still running?`;
      term.write(`\r\n[${status.textContent}]\r\n`);
      reconnect.hidden = false;
    };
  };
  reconnect.addEventListener('click', () => { term.reset(); connect(); });
  const onWindowResize = () => fit.fit();
  window.addEventListener('resize', onWindowResize);
  connect();
  onLeave(() => {
    window.removeEventListener('resize', onWindowResize);
    if (ws) { ws.onclose = null; ws.close(); }
    term.dispose();
  });
}
