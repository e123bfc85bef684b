// fetch wrapper for the gateway's REST API (rest.v1): same origin, the session cookie included.
// A failed call throws an ApiError carrying the gateway's {code, message, details?} and the HTTP
// status; a network failure throws one with status 0 and code NETWORK.

export class ApiError extends Error {
  constructor({ status, code, message, details }) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || (status ? `HTTP_${status}` : 'NETWORK');
    this.details = details || null;
  }
}

const listeners = new Set();
/** fn(error) for every 401 answer: the app uses it to go to the sign-in page. */
export function onUnauthorized(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function api(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
    cache: 'no-store',
  };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError({
      status: 0,
      code: 'NETWORK',
      message: `Cannot reach the gateway (${e.message}). Check that it is running and that this page's address is right, then try again.`,
    });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError({
      status: res.status,
      code: data && data.code,
      message: (data && data.message) || `${res.status} ${res.statusText}`,
      details: data && data.details,
    });
    // Signing in itself answers 401 for a bad code or token: that is the form's error, not a
    // session that ended.
    if (res.status === 401 && path !== '/v1/web/session') listeners.forEach((fn) => fn(err));
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

/** `/v1/orgs/<org>/...` with every segment encoded. */
export function orgPath(orgId, ...rest) {
  return ['/v1/orgs', orgId, ...rest].map((s, i) => (i === 0 ? s : encodeURIComponent(s))).join('/');
}
