// Who is signed in, and in which org. GET /v1/web/session decides on load; sign-in and
// sign-out go through POST / DELETE /v1/web/session (docs/web-ui.md). The chosen org is kept
// in localStorage (it is not a secret: the cookie is what authenticates).

import { api, ApiError, onUnauthorized } from './rest.js';
import { useEffect, useState } from './html.js';

const ORG_KEY = 'vespid.orgId';

let state = { status: 'loading', user: null, orgs: [], session: null, orgId: null, error: null };
const fns = new Set();

function set(patch) {
  state = { ...state, ...patch };
  fns.forEach((fn) => fn(state));
}

export function getAuth() {
  return state;
}

export function subscribe(fn) {
  fns.add(fn);
  return () => fns.delete(fn);
}

/** The auth state as a hook; re-renders on every change. */
export function useAuth() {
  const [s, setS] = useState(state);
  useEffect(() => subscribe(setS), []);
  return s;
}

function pickOrg(orgs, session) {
  if (session && session.orgId) return session.orgId; // an org-bound session has one org
  let saved = null;
  try {
    saved = localStorage.getItem(ORG_KEY);
  } catch {
    saved = null;
  }
  if (saved && orgs.some((o) => o.id === saved)) return saved;
  return orgs.length ? orgs[0].id : null;
}

function signedIn(data) {
  const orgs = data.orgs || [];
  set({
    status: 'signedIn',
    user: data.user,
    orgs,
    session: data.session || null,
    orgId: pickOrg(orgs, data.session),
    error: null,
  });
}

export async function loadSession() {
  try {
    signedIn(await api('GET', '/v1/web/session'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) set({ status: 'signedOut', error: null });
    else set({ status: 'error', error: e });
  }
  return state;
}

/** body: {loginCode} or {accessToken}. Throws the gateway's ApiError. */
export async function signIn(body) {
  const data = await api('POST', '/v1/web/session', body);
  signedIn(data);
  return state;
}

export async function signOut() {
  try {
    await api('DELETE', '/v1/web/session');
  } finally {
    set({ status: 'signedOut', user: null, orgs: [], session: null, orgId: null, error: null });
  }
}

export function chooseOrg(orgId) {
  try {
    localStorage.setItem(ORG_KEY, orgId);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  set({ orgId });
}

export function currentOrg() {
  return state.orgs.find((o) => o.id === state.orgId) || null;
}

// A 401 from any call means the session ended (signed out elsewhere, expired, revoked).
onUnauthorized(() => {
  if (state.status === 'signedIn') {
    set({ status: 'signedOut', user: null, orgs: [], session: null, orgId: null, error: new ApiError({ status: 401, code: 'UNAUTHORIZED', message: 'Your session ended (signed out, expired or revoked). Sign in again.' }) });
  }
});
