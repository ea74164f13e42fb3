// The API through the portal (same origin): the session cookie goes by
// itself; the CSRF token, kept in memory only, goes on every change.
let csrf = null;
// Lists answered with an ETag, by path: polling them again sends
// If-None-Match and takes the copy kept here on 304 (nothing changed).
const lists = new Map();
const LISTS_KEPT = 32;
let onUnauthorized = () => {};

// A new token is a new session (or none): lists kept for the last one go.
export function setCsrf(token) { csrf = token; lists.clear(); }
export function setUnauthorizedHandler(f) { onUnauthorized = f; }

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field ?? null;
    this.retryAfter = retryAfter ?? null;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);


// api(method, path[, body]) -> the parsed body (JSON or text); throws ApiError
// with the server's status, code, message and field.
export async function api(method, path, body, { raw = false } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
  const kept = method === 'GET' && !raw ? lists.get(path) : undefined;
  if (kept) headers['If-None-Match'] = kept.etag;
  let res;
  // A read that failed in the network (a dropped connection, the browser's
  // "network changed") is sent again, a few times: it changes nothing.
  for (let attempt = 0; ; attempt++) {
    try {
      res = await fetch(path, {
        method, headers, credentials: 'same-origin', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      break;
    } catch (e) {
      if (!SAFE.has(method) || attempt >= 4)
        throw new ApiError(0, 'network', `cannot reach the portal (${e.message})`);
      await new Promise(r => setTimeout(r, 250 * (attempt + 1)));
    }
  }
  if (res.status === 304 && kept) return kept.data;
  const type = res.headers.get('Content-Type') ?? '';
  let data = null;
  if (res.status !== 204)
    data = type.includes('json') && !raw ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const e = (data && typeof data === 'object' && data.error) || {};
    const err = new ApiError(res.status, e.code ?? 'http_error',
      e.message ?? `${res.status} ${res.statusText || 'error'}`, e.field,
      e.retry_after ?? res.headers.get('Retry-After'));
    if (res.status === 401 && err.code !== 'bad_credentials' && err.code !== 'totp_required' && err.code !== 'bad_totp')
      onUnauthorized(err);
    throw err;
  }
  const etag = res.headers.get('ETag');
  if (etag && data && typeof data === 'object') {
    Object.defineProperty(data, 'etag', { value: etag, enumerable: false });
    // Only lists' tags revalidate (an object's ETag is its version, for If-Match).
    if (method === 'GET' && /^"[a-z_]+\./.test(etag)) {
      lists.delete(path);
      lists.set(path, { etag, data });
      if (lists.size > LISTS_KEPT) lists.delete(lists.keys().next().value);
    }
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
