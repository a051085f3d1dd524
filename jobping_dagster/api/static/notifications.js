// The notification history (GET /api/notifications, newest first) with delivery status.

import { api, query } from './api.js';
import { byId, busy, clear, el, externalLink, when } from './dom.js';

const PAGE = 20;
const STATUS = {
  pending: 'waiting to be sent',
  sending: 'sending',
  sent: 'sent',
  recorded: 'listed here (no channel)',
  retry: 'will be retried',
  failed: 'failed',
  dead: 'not sent: the webhook is gone',
  unknown: 'unknown: it may have arrived',
};
const CHANNEL = { discord: 'Discord', email: 'email', webhook: 'your webhook' };
const KIND = { digest: 'Daily digest', notice: 'Notice' };
const state = { cursor: null, request: 0 };
let wired = false;

export function resetNotifications() {
  state.cursor = null;
  clear(byId('notifications-list'));
  byId('notifications-more').hidden = true;
  byId('notifications-empty').hidden = true;
}

export function showNotifications() {
  if (!wired) {
    wired = true;
    byId('notifications-more').addEventListener('click', () => load(false));
  }
  load(true);
}

async function load(fromStart) {
  if (fromStart) state.cursor = null;
  const problem = byId('notifications-error');
  problem.textContent = '';
  const more = byId('notifications-more');
  const request = ++state.request;
  let data;
  try {
    ({ data } = await busy(more, () =>
      api('GET', `/api/notifications${query({ cursor: state.cursor, limit: PAGE })}`),
    ));
  } catch (error) {
    if (request === state.request) problem.textContent = error.message;
    return;
  }
  if (request !== state.request) return;
  const list = byId('notifications-list');
  if (fromStart) clear(list);
  for (const item of data.items) list.append(row(item));
  state.cursor = data.next_cursor;
  more.hidden = !data.next_cursor;
  const empty = byId('notifications-empty');
  empty.hidden = list.childElementCount > 0;
  empty.textContent = 'No notifications yet: they come for matches at or above your score.';
}

function statusText(known, item) {
  const channel = Object.hasOwn(CHANNEL, item.channel) ? CHANNEL[item.channel] : null;
  if (known === 'sent' && channel) return `sent by ${channel}`;
  return STATUS[known];
}

function heading(item) {
  const kind = Object.hasOwn(KIND, item.kind) ? KIND[item.kind] : null;
  if (!item.job) return el('h3', { text: kind ? `${kind}: ${item.message || ''}` : item.message || '' });
  const title = item.job.title || '(untitled posting)';
  return el('h3', {}, externalLink(item.job.url, kind ? `${kind}, best: ${title}` : title, 'posting-link'));
}

function row(item) {
  const status = String(item.status || 'unknown');
  const known = Object.hasOwn(STATUS, status) ? status : 'unknown';
  const times = [`created ${when(item.created_at)}`];
  if (item.delivered_at) times.push(`delivered ${when(item.delivered_at)}`);
  if (item.attempts > 1) times.push(`${item.attempts} attempts`);
  return el(
    'li',
    { className: 'card notification', attrs: { 'data-status': known, 'data-match-id': item.match_id } },
    el(
      'div',
      { className: 'notification-head' },
      item.score === null || item.score === undefined
        ? null
        : el('span', { className: 'score score-small', text: item.score, attrs: { title: 'score out of 100' } }),
      heading(item),
    ),
    el('p', { className: 'meta', text: item.job ? item.job.company || '' : '' }),
    el(
      'p',
      { className: 'delivery' },
      el('span', { className: `status status-${known}`, text: statusText(known, item) }),
      el('span', { className: 'meta', text: ` ${times.join(' · ')}` }),
    ),
  );
}
