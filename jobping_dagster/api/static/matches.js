// The matches (GET /api/jobs, best first, a page at a time) with feedback buttons, and the
// postings not yet scored (GET /api/jobs/candidates) with a "score it" button.
// Every text here comes from job boards, company research or the scorer: textContent only.

import { api, query } from './api.js';
import { byId, busy, clear, clearErrors, el, externalLink, showError, when } from './dom.js';

const PAGE = 20;
const RECOMMENDATIONS = { apply: 'Apply', consider: 'Consider', skip: 'Skip' };
const matches = { cursor: null, loaded: false, filter: {}, request: 0 };
let wired = false;

export function resetMatches() {
  matches.cursor = null;
  matches.loaded = false;
  clear(byId('matches-list'));
  byId('matches-more').hidden = true;
  byId('matches-empty').hidden = true;
}

export function showMatches() {
  if (!wired) wire();
  load(true);
}

function wire() {
  wired = true;
  byId('filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    load(true);
  });
  byId('matches-more').addEventListener('click', () => load(false));
}

function filterValues() {
  const form = byId('filter-form');
  const minScore = form.elements.min_score.value.trim();
  return { min_score: minScore, q: form.elements.q.value.trim() };
}

async function load(fromStart) {
  const form = byId('filter-form');
  clearErrors(form);
  if (fromStart) {
    matches.filter = filterValues();
    matches.cursor = null;
  }
  const request = ++matches.request;
  const more = byId('matches-more');
  let data;
  try {
    ({ data } = await busy(more, () =>
      api('GET', `/api/jobs${query({ ...matches.filter, cursor: matches.cursor, limit: PAGE })}`),
    ));
  } catch (error) {
    if (request === matches.request) showError(form, error);
    return;
  }
  if (request !== matches.request) return; // a newer search is on its way
  const list = byId('matches-list');
  if (fromStart) clear(list);
  for (const item of data.items) list.append(matchCard(item));
  matches.cursor = data.next_cursor;
  matches.loaded = true;
  more.hidden = !data.next_cursor;
  const empty = byId('matches-empty');
  empty.hidden = list.childElementCount > 0;
  const filtered = matches.filter.min_score || matches.filter.q;
  empty.textContent = filtered
    ? 'No match with these filters.'
    : 'No matches yet. New postings are read every hour; see also "Not yet scored".';
}

function scoreClass(score) {
  if (score >= 80) return 'score score-high';
  if (score >= 60) return 'score score-mid';
  return 'score score-low';
}

function salary(job) {
  const low = job.salary_min;
  const high = job.salary_max;
  if (low == null && high == null) return null;
  const fmt = (n) => Number(n).toLocaleString(undefined, { maximumFractionDigits: 0 });
  const range = low != null && high != null && low !== high ? `${fmt(low)}–${fmt(high)}` : fmt(low ?? high);
  return `${range} ${job.salary_currency || ''}`.trim();
}

function jobMeta(job) {
  const parts = [job.company, job.location];
  if (job.is_remote && !/remote/i.test(job.location || '')) parts.push('remote');
  if (job.job_type) parts.push(job.job_type);
  const pay = salary(job);
  if (pay) parts.push(pay);
  if (job.date_posted) parts.push(`posted ${when(job.date_posted, false)}`);
  return parts.filter(Boolean).join(' · ');
}

function textList(title, values, className) {
  if (!values || !values.length) return null;
  return el(
    'div',
    { className },
    el('h4', { text: title }),
    el('ul', {}, ...values.map((value) => el('li', { text: value }))),
  );
}

function companyBlock(company) {
  if (!company) return null;
  const box = el('div', { className: 'company' });
  box.append(el('h4', { text: `About ${company.name}` }));
  if (company.summary) box.append(el('p', { className: 'company-summary', text: company.summary }));
  else box.append(el('p', { className: 'hint', text: 'Not researched yet.' }));
  const more = el('details', { className: 'company-more' }, el('summary', { text: 'More about the company' }));
  const facts = el('dl', { className: 'facts' });
  for (const [key, label] of [['industry', 'Industry'], ['size', 'Size'], ['headquarters', 'Headquarters']]) {
    if (company[key]) facts.append(el('dt', { text: label }), el('dd', { text: company[key] }));
  }
  if (company.website) {
    facts.append(el('dt', { text: 'Website' }), el('dd', {}, externalLink(company.website, company.website)));
  }
  if (facts.childElementCount) more.append(facts);
  for (const list of [
    textList('Culture', company.culture, 'culture'),
    textList('Red flags', company.red_flags, 'red-flags'),
  ]) {
    if (list) more.append(list);
  }
  if (more.childElementCount > 1) box.append(more);
  return box;
}

function matchCard(item) {
  const { job, match, company } = item;
  const card = el('li', { className: 'card match', attrs: { 'data-match-id': match.id, 'data-job-id': job.id } });
  const head = el(
    'div',
    { className: 'match-head' },
    el('span', { className: scoreClass(match.score), text: match.score, attrs: { title: 'score out of 100' } }),
    el(
      'div',
      { className: 'match-title' },
      el('h3', {}, externalLink(job.url, job.title || '(untitled posting)', 'posting-link')),
      el('p', { className: 'meta', text: jobMeta(job) }),
    ),
  );
  card.append(head);
  if (match.recommendation) {
    card.append(
      el('p', {
        className: `recommendation rec-${match.recommendation}`,
        text: RECOMMENDATIONS[match.recommendation] || match.recommendation,
      }),
    );
  }
  if (match.explanation) card.append(el('p', { className: 'explanation', text: match.explanation }));
  const prosCons = el('div', { className: 'pros-cons' });
  prosCons.append(...[textList('Pros', match.pros, 'pros'), textList('Cons', match.cons, 'cons')].filter(Boolean));
  if (prosCons.childElementCount) card.append(prosCons);
  const about = companyBlock(company);
  if (about) card.append(about);
  if (match.current === false) {
    card.append(el('p', { className: 'hint stale', text: 'Scored against an earlier version of your wish.' }));
  }
  card.append(feedbackBlock(match));
  return card;
}

function feedbackBlock(match) {
  const box = el('form', { className: 'feedback', attrs: { novalidate: true } });
  const reasonId = `reason-${match.id}`;
  const good = el('button', { className: 'verdict good', text: 'Good', attrs: { type: 'button', 'data-verdict': 'good' } });
  const bad = el('button', { className: 'verdict bad', text: 'Bad', attrs: { type: 'button', 'data-verdict': 'bad' } });
  const reason = el('input', {
    className: 'reason',
    attrs: { id: reasonId, name: 'reason', type: 'text', maxlength: 1000, placeholder: 'Why? (optional)', autocomplete: 'off' },
  });
  const saved = el('p', { className: 'feedback-saved', attrs: { role: 'status' } });
  box.append(
    el('span', { className: 'feedback-question', text: 'A good match?' }),
    el('div', { className: 'verdicts' }, good, bad),
    el('label', { className: 'visually-hidden', text: 'Reason', attrs: { for: reasonId } }),
    reason,
    el('p', { className: 'field-error', attrs: { 'data-error-for': 'reason' } }),
    el('p', { className: 'field-error', attrs: { 'data-error-for': 'verdict' } }),
    el('p', { className: 'form-error', attrs: { 'data-error-for': '_form', role: 'alert' } }),
    saved,
  );
  const show = (feedback) => {
    for (const button of [good, bad]) {
      button.setAttribute('aria-pressed', String(Boolean(feedback) && feedback.verdict === button.dataset.verdict));
    }
    box.dataset.verdict = feedback ? feedback.verdict : '';
    saved.textContent = feedback
      ? `Your verdict: ${feedback.verdict}${feedback.reason ? ` (${feedback.reason})` : ''}`
      : '';
  };
  show(match.feedback);
  if (match.feedback && match.feedback.reason) reason.value = match.feedback.reason;
  const send = async (button) => {
    clearErrors(box);
    const body = { verdict: button.dataset.verdict };
    const text = reason.value.trim();
    if (text) body.reason = text;
    try {
      const { data } = await busy(button, () => api('POST', `/api/matches/${match.id}/feedback`, body));
      show({ verdict: data.verdict, reason: data.reason });
    } catch (error) {
      showError(box, error);
    }
  };
  good.addEventListener('click', () => send(good));
  bad.addEventListener('click', () => send(bad));
  box.addEventListener('submit', (event) => event.preventDefault());
  return box;
}

// ---- not yet scored -------------------------------------------------------------------------

let candidatesRequest = 0;

export async function showCandidates() {
  const list = byId('candidates-list');
  const empty = byId('candidates-empty');
  const problem = byId('candidates-error');
  problem.textContent = '';
  const request = ++candidatesRequest;
  let data;
  try {
    ({ data } = await api('GET', '/api/jobs/candidates?limit=20'));
  } catch (error) {
    if (request === candidatesRequest) problem.textContent = error.message;
    return;
  }
  if (request !== candidatesRequest) return;
  clear(list);
  for (const item of data.items) list.append(candidateCard(item));
  empty.hidden = data.items.length > 0;
  empty.textContent = 'Nothing waiting: every relevant recent posting was scored for you (or write your wish first).';
}

function candidateCard(item) {
  const { job } = item;
  const outcome = el('p', { className: 'outcome', attrs: { role: 'status' } });
  const button = el('button', { className: 'primary score-it', text: 'Score it', attrs: { type: 'button' } });
  const meta = [job.company, job.location, job.first_seen_at ? `seen ${when(job.first_seen_at, false)}` : null];
  if (typeof item.relevance === 'number') meta.push(`relevance ${Math.round(item.relevance * 100)}%`);
  const card = el(
    'li',
    { className: 'card candidate', attrs: { 'data-job-id': job.id } },
    el('h3', {}, externalLink(job.url, job.title || '(untitled posting)', 'posting-link')),
    el('p', { className: 'meta', text: meta.filter(Boolean).join(' · ') }),
    button,
    outcome,
  );
  button.addEventListener('click', async () => {
    outcome.className = 'outcome';
    outcome.textContent = 'Asking…';
    try {
      const { data } = await busy(button, () => api('POST', `/api/jobs/${job.id}/score`));
      outcome.className = 'outcome outcome-ok';
      outcome.textContent = `Queued (run ${String(data.run_id).slice(0, 8)}): it shows up under Matches when it is scored, in a minute or two.`;
      button.disabled = true;
      resetMatches();
    } catch (error) {
      outcome.className = error.status === 409 ? 'outcome outcome-info' : 'outcome outcome-error';
      outcome.textContent = error.message;
      if (error.status === 409) button.disabled = true;
    }
  });
  return card;
}
