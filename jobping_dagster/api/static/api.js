// The JSON API on the same origin. Signed in by the HttpOnly session cookie; every change
// (POST, PATCH, PUT, DELETE) carries the jobping_csrf cookie's value in X-CSRF-Token.

const UNSAFE = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === 'string' ? detail : `request failed (${status})`);
    this.status = status;
    // A string, or FastAPI's list of {loc, msg, type} for a 422.
    this.detail = detail;
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return '';
}

// Called on any 401 but a failed login: the session is over, show the login form.
let onSignedOut = () => {};
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, credentials: 'same-origin', headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method)) {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = cookie('jobping_csrf');
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'JobPing cannot be reached; check your connection and try again');
  }
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = { detail: `unexpected answer (${response.status})` };
      }
    }
  }
  if (!response.ok) {
    const detail = data && data.detail !== undefined ? data.detail : `request failed (${response.status})`;
    const error = new ApiError(response.status, detail);
    if (response.status === 401 && path !== '/api/login') onSignedOut(error);
    throw error;
  }
  return { status: response.status, data };
}

// A query string from the values that are set.
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
