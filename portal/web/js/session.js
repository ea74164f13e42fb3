// Who is logged in (from the login answer or GET /1.0/auth/session).
import { api, setCsrf } from './api.js';

export const session = { user: null, mustEnrollTotp: false };

export function adopt(answer) {
  session.user = answer.user;
  session.mustEnrollTotp = !!answer.must_enroll_totp;
  setCsrf(answer.csrf ?? null);
}

export function forget() {
  session.user = null;
  session.mustEnrollTotp = false;
  setCsrf(null);
}

export async function restore() {
  try {
    adopt(await api('GET', '/1.0/auth/session', undefined, { quiet401: true }));
  } catch {
    forget();
  }
  return session.user;
}

export const role = () => session.user?.role;
export const isAdmin = () => role() === 'admin';
export const canRead = () => role() === 'admin' || role() === 'auditor';
