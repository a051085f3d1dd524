// The page: signed out it shows log in / sign up; signed in, one view at a time (matches,
// wish, unscored postings, notifications, account), named in the URL's #fragment.

import { api, whenSignedOut } from './api.js';
import { byId, busy, clearErrors, el, clear, showError, when } from './dom.js';
import { showWish } from './wish.js';
import { showMatches, resetMatches, showCandidates } from './matches.js';
import { showNotifications, resetNotifications } from './notifications.js';

const VIEWS = ['matches', 'wish', 'candidates', 'notifications', 'account'];
const state = { me: null };

function banner(text, kind = 'info') {
  const node = byId('banner');
  node.textContent = text || '';
  node.className = `banner banner-${kind}`;
  node.hidden = !text;
}

// ---- signed out ---------------------------------------------------------------------------

function showAuth(which = 'login') {
  state.me = null;
  byId('loading').hidden = true;
  byId('app').hidden = true;
  byId('who').hidden = true;
  byId('auth').hidden = false;
  resetMatches();
  resetNotifications();
  selectAuthTab(which);
}

function selectAuthTab(which) {
  for (const tab of document.querySelectorAll('[data-auth]')) {
    tab.setAttribute('aria-selected', String(tab.dataset.auth === which));
  }
  byId('login-form').hidden = which !== 'login';
  byId('signup-form').hidden = which !== 'signup';
  const form = byId(`${which}-form`);
  clearErrors(form);
}

async function submitCredentials(event, path) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const body = { email: form.elements.email.value.trim(), password: form.elements.password.value };
  const button = form.querySelector('button[type="submit"]');
  try {
    const { data } = await busy(button, () => api('POST', path, body));
    form.reset();
    banner(
      path === '/api/register'
        ? 'Welcome to JobPing! Start with your wish: what you are looking for, in your own words.'
        : '',
      'ok',
    );
    const first = path === '/api/register' || !data.user.prompt ? 'wish' : 'matches';
    showApp(data.user, first);
  } catch (error) {
    showError(form, error);
  }
}

// ---- signed in ----------------------------------------------------------------------------

function showApp(me, view) {
  state.me = me;
  byId('loading').hidden = true;
  byId('auth').hidden = true;
  byId('app').hidden = false;
  byId('who').hidden = false;
  byId('who-email').textContent = me.email;
  const wanted = view || viewFromHash() || (me.prompt ? 'matches' : 'wish');
  if (viewFromHash() === wanted) showView(wanted);
  else location.hash = wanted; // hashchange shows it
}

function viewFromHash() {
  const name = location.hash.replace(/^#/, '');
  return VIEWS.includes(name) ? name : null;
}

function showView(name) {
  if (!state.me) return;
  for (const view of VIEWS) {
    byId(`view-${view}`).hidden = view !== name;
    byId(`nav-${view}`).setAttribute('aria-selected', String(view === name));
  }
  if (name === 'wish') showWish(state.me, (me) => updateMe(me));
  else if (name === 'matches') showMatches();
  else if (name === 'candidates') showCandidates();
  else if (name === 'notifications') showNotifications();
  else if (name === 'account') showAccount();
}

function updateMe(me) {
  state.me = me;
  byId('who-email').textContent = me.email;
  resetMatches(); // a new wish or min score changes what is listed
}

function showAccount() {
  const me = state.me;
  const facts = clear(byId('account-facts'));
  const webhook = me.discord_webhook
    ? `${me.discord_webhook}${me.webhook_dead ? ' (gone: Discord said it no longer exists)' : ''}`
    : 'none: notifications are only listed here';
  for (const [term, value] of [
    ['Email', me.email],
    ['Member since', when(me.created_at, false)],
    ['Notify from score', String(me.min_score)],
    ['Discord webhook', webhook],
  ]) {
    facts.append(el('dt', { text: term }), el('dd', { text: value }));
  }
  byId('delete-confirm').hidden = true;
  byId('delete-account').hidden = false;
  byId('delete-error').textContent = '';
}

async function deleteAccount() {
  const button = byId('delete-yes');
  try {
    await busy(button, () => api('DELETE', '/api/me'));
    history.replaceState(null, '', location.pathname);
    showAuth('signup');
    banner('Your account and everything in it was deleted.', 'ok');
  } catch (error) {
    byId('delete-error').textContent = error.message;
  }
}

async function logOut() {
  try {
    await api('POST', '/api/logout');
  } catch (error) {
    // Signed out either way: the cookies are gone or were never there.
  }
  history.replaceState(null, '', location.pathname);
  showAuth('login');
  banner('You are logged out.', 'ok');
}

// ---- start ------------------------------------------------------------------------------

function wire() {
  for (const tab of document.querySelectorAll('[data-auth]')) {
    tab.addEventListener('click', () => selectAuthTab(tab.dataset.auth));
  }
  byId('login-form').addEventListener('submit', (event) => submitCredentials(event, '/api/login'));
  byId('signup-form').addEventListener('submit', (event) =>
    submitCredentials(event, '/api/register'),
  );
  for (const tab of document.querySelectorAll('[data-view]')) {
    tab.addEventListener('click', () => {
      banner('');
      if (location.hash === `#${tab.dataset.view}`) showView(tab.dataset.view);
      else location.hash = tab.dataset.view;
    });
  }
  window.addEventListener('hashchange', () => {
    const view = viewFromHash();
    if (view && state.me) showView(view);
  });
  byId('logout').addEventListener('click', logOut);
  byId('delete-account').addEventListener('click', () => {
    byId('delete-account').hidden = true;
    byId('delete-confirm').hidden = false;
    byId('delete-no').focus();
  });
  byId('delete-no').addEventListener('click', () => {
    byId('delete-confirm').hidden = true;
    byId('delete-account').hidden = false;
  });
  byId('delete-yes').addEventListener('click', deleteAccount);
  whenSignedOut(() => {
    const wasIn = state.me !== null;
    showAuth('login');
    if (wasIn) banner('Your session ended: log in again.', 'warn');
  });
}

async function start() {
  wire();
  try {
    const { data } = await api('GET', '/api/me');
    showApp(data);
  } catch (error) {
    if (error.status !== 401) banner(error.message, 'error');
    showAuth('login');
  }
}

start();
