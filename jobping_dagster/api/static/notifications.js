// The notification history (GET /api/notifications, newest first) with delivery status.

import { api, query } from './api.js';
import { byId, busy, clear, el, externalLink, when } from './dom.js';

const PAGE = 20;
const STATUS = {
  pending: 'waiting to be sent',
  sending: 'sending',
  sent: 'sent to Discord',
  recorded: 'listed here (no webhook)',
  retry: 'will be retried',
  failed: 'failed',
  dead: 'not sent: the webhook is gone',
  unknown: 'unknown: Discord may have it',
};
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
      el('span', { className: 'score score-small', text: item.score, attrs: { title: 'score out of 100' } }),
      el('h3', {}, externalLink(item.job.url, item.job.title || '(untitled posting)', 'posting-link')),
    ),
    el('p', { className: 'meta', text: item.job.company || '' }),
    el(
      'p',
      { className: 'delivery' },
      el('span', { className: `status status-${known}`, text: STATUS[known] }),
      el('span', { className: 'meta', text: ` ${times.join(' · ')}` }),
    ),
  );
}
