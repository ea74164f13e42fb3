// Prometheus text from GET /1.0/metrics into {name: [{labels, value}]}.
export function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    (out[m[1]] ??= []).push({ labels, value: Number(m[3]) });
  }
  return out;
}

// Per container id: {memory, cpu (seconds), pids}.
export function byContainer(metrics) {
  const out = {};
  const take = (name, key) => {
    for (const { labels, value } of metrics[name] ?? []) (out[labels.id] ??= {})[key] = value;
  };
  take('sandhost_container_memory_bytes', 'memory');
  take('sandhost_container_cpu_seconds_total', 'cpu');
  take('sandhost_container_pids', 'pids');
  return out;
}
