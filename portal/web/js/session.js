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

// A 401 here on a page (an ended session) goes to the login page with the
// reason, like any other request's (main.js); at the start nobody is logged in
// and it is only the answer.
export async function restore() {
  try {
    adopt(await api('GET', '/1.0/auth/session'));
  } catch {
    forget();
  }
  return session.user;
}

export const role = () => session.user?.role;
export const isAdmin = () => role() === 'admin';
export const canRead = () => role() === 'admin' || role() === 'auditor';
