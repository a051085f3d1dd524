// The wish editor (prompt, min score, Discord webhook) and, beside it, what JobPing
// understood of the wish (GET /api/me/wishes).

import { api } from './api.js';
import { byId, busy, clear, clearErrors, el, showError } from './dom.js';

const LISTS = [
  ['roles', 'Roles'],
  ['seniority', 'Seniority'],
  ['skills', 'Skills'],
  ['countries', 'Countries'],
  ['cities', 'Cities'],
  ['languages', 'Languages'],
  ['excluded_companies', 'Not at these companies'],
  ['excluded_industries', 'Not in these industries'],
  ['excluded_roles', 'Not these roles'],
  ['notes', 'Notes'],
];

let onSaved = () => {};
let wired = false;

export function showWish(me, saved) {
  onSaved = saved;
  if (!wired) {
    byId('wish-form').addEventListener('submit', save);
    wired = true;
  }
  fill(me);
  byId('wish-saved').textContent = '';
  loadUnderstood();
}

function fill(me) {
  const form = byId('wish-form');
  clearErrors(form);
  form.elements.prompt.value = me.prompt || '';
  form.elements.min_score.value = String(me.min_score);
  form.elements.discord_webhook.value = '';
  byId('wish-remove-webhook').checked = false;
  byId('remove-webhook-label').hidden = !me.discord_webhook;
  const current = byId('current-webhook');
  clear(current);
  if (me.discord_webhook) {
    current.append('Current: ', el('code', { text: me.discord_webhook }), ' (type a new one to replace it)');
    if (me.webhook_dead) {
      current.append(
        el('span', { className: 'warn', text: ' Discord said this webhook no longer exists: set a new one.' }),
      );
    }
  } else {
    current.textContent = 'None: your notifications are listed on this page only.';
  }
}

// The min score as typed: a whole number is sent as one, anything else as text so that the
// server names the field in its answer.
function minScoreValue(text) {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

async function save(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  byId('wish-saved').textContent = '';
  const body = { prompt: form.elements.prompt.value };
  const minScore = minScoreValue(form.elements.min_score.value);
  if (minScore !== undefined) body.min_score = minScore;
  const webhook = form.elements.discord_webhook.value.trim();
  if (webhook) body.discord_webhook = webhook;
  else if (byId('wish-remove-webhook').checked) body.discord_webhook = '';
  const button = form.querySelector('button[type="submit"]');
  try {
    const { data } = await busy(button, () => api('PATCH', '/api/me', body));
    fill(data);
    onSaved(data);
    byId('wish-saved').textContent = 'Saved.';
    loadUnderstood();
  } catch (error) {
    showError(form, error);
  }
}

let understoodRequest = 0;

async function loadUnderstood() {
  const body = clear(byId('understood-body'));
  body.append(el('p', { className: 'hint', text: 'Reading your wish…' }));
  const request = ++understoodRequest;
  let data;
  try {
    ({ data } = await api('GET', '/api/me/wishes'));
  } catch (error) {
    if (request !== understoodRequest) return;
    clear(body).append(el('p', { className: 'form-error', text: error.message }));
    return;
  }
  if (request !== understoodRequest) return;
  clear(body);
  const wishes = data.wishes;
  if (!wishes) {
    body.append(
      el('p', {
        className: 'hint',
        text: 'Write your wish and save it: what JobPing understood of it shows here.',
      }),
    );
    return;
  }
  const facts = el('dl', { className: 'facts understood-facts' });
  const add = (term, value) => facts.append(el('dt', { text: term }), el('dd', { text: value }));
  for (const [key, label] of LISTS) {
    const values = Array.isArray(wishes[key]) ? wishes[key] : [];
    if (values.length) add(label, values.join(', '));
  }
  if (wishes.remote_only) add('Remote', 'remote only');
  if (wishes.salary_floor !== null && wishes.salary_floor !== undefined) {
    add('Pay at least', `${Number(wishes.salary_floor).toLocaleString()} ${wishes.salary_currency || ''}`.trim());
  }
  if (facts.childElementCount) body.append(facts);
  else {
    body.append(
      el('p', {
        className: 'hint',
        text: 'Nothing specific: every posting is compared with your words as written.',
      }),
    );
  }
  if (data.reader) body.append(el('p', { className: 'hint reader', text: `Read by ${data.reader}.` }));
}
