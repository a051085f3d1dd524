// Building the page from data. Postings, company research and the scorer's words are
// untrusted text: they only ever go in through textContent (never innerHTML), and only
// http(s) URLs become links.

// el('p', {className: 'x', text: 'y', attrs: {...}}, child, ...): children are nodes or text.
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

// The URL when it is http(s), else null (javascript:, data: and the like are not links).
export function safeUrl(value) {
  if (typeof value !== 'string' || !value.trim()) return null;
  let url;
  try {
    url = new URL(value.trim());
  } catch (error) {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

// A link opening in a new tab for an http(s) URL; plain text otherwise.
export function externalLink(url, text, className) {
  const href = safeUrl(url);
  if (!href) return el('span', { className, text });
  return el('a', {
    className,
    text,
    attrs: { href, target: '_blank', rel: 'noopener noreferrer' },
  });
}

// Server times are UTC; those without a zone are read as UTC too.
export function when(value, withTime = true) {
  if (!value) return '';
  const text = String(value);
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || !text.includes('T') ? text : `${text}Z`;
  const date = new Date(zoned);
  if (Number.isNaN(date.getTime())) return text;
  if (!withTime || !text.includes('T')) {
    return date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  }
  return date.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

// Shows an error: a 422's messages under the fields named by loc[1] in `scope`, anything
// else in the scope's [data-error-for="_form"] (or `fallback`).
export function showError(scope, error, fallback) {
  clearErrors(scope);
  const general = scope.querySelector('[data-error-for="_form"]') || fallback;
  const detail = error && error.detail !== undefined ? error.detail : String(error);
  if (Array.isArray(detail)) {
    const leftover = [];
    for (const item of detail) {
      const field = Array.isArray(item.loc) && item.loc.length > 1 ? String(item.loc[1]) : '';
      const message = item.msg || 'is not valid';
      const slot = field ? scope.querySelector(`[data-error-for="${CSS.escape(field)}"]`) : null;
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
        const input = scope.querySelector(`[name="${CSS.escape(field)}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
      } else {
        leftover.push(field ? `${field}: ${message}` : message);
      }
    }
    if (general && leftover.length) general.textContent = leftover.join(' ');
    const first = scope.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  } else if (general) {
    general.textContent = String(detail);
  }
}

export function clearErrors(scope) {
  for (const slot of scope.querySelectorAll('[data-error-for]')) slot.textContent = '';
  for (const input of scope.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

// Disables a button while `work` runs, so a double click sends one request.
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
