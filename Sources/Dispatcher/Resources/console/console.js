// The console's shell: the session (token in sessionStorage), the API client, hash routing, polling
// every 2 s while the tab is visible, and the banner that shows every error the server answers.
import { h, clock } from './dom.js';
import { routes } from './pages.js';

const TOKEN_KEY = 'botyard.token';
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

/** An error answer of the API (`{"error": {"code", "message"}}`), or `unreachable` when there was none. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const session = { token: sessionStorage.getItem(TOKEN_KEY), me: null };

/**
 * Calls the API with the session's token. Resolves with the decoded JSON (or the text when
 * `text` is set); rejects with an APIError. A 401 at any time ends the session: back to login.
 */
async function api(path, { method = 'GET', body, text = false } = {}) {
  const headers = { Authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new APIError(0, 'unreachable', `cannot reach the dispatcher (${error.message})`);
  }
  if (response.ok) {
    if (text) return response.text();
    return response.status === 204 ? null : response.json();
  }
  let code = `http_${response.status}`;
  let message = response.statusText || 'no message';
  try {
    const answer = await response.json();
    code = answer.error.code;
    message = answer.error.message;
  } catch {
    // Not Botyard's JSON error (a proxy's page): keep the status.
  }
  if (response.status === 401) signOut(`${code}: ${message}`);
  throw new APIError(response.status, code, message);
}

// The banner: errors stay until dismissed (or, for a failed refresh, until one succeeds); a
// success note of an action goes away by itself.
let bannerKind = null;
let bannerTimer = null;

function showBanner(kind, text) {
  clearTimeout(bannerTimer);
  bannerKind = kind;
  $('banner-text').textContent = text;
  $('banner').className = kind === 'info' ? 'info' : '';
  $('banner').hidden = false;
  if (kind === 'info') bannerTimer = setTimeout(hideBanner, 4000);
}

function hideBanner() {
  clearTimeout(bannerTimer);
  bannerKind = null;
  $('banner').hidden = true;
}

const describe = (error) => (error instanceof APIError ? `${error.code}: ${error.message}` : String(error));

// Routing: '#/jobs/42' → the route whose pattern is ['jobs', ':id'], with params {id: '42'}.
function currentRoute() {
  const path = location.hash.replace(/^#\/?/, '').split('?')[0];
  const parts = path ? path.split('/').map(decodeURIComponent) : [];
  if (!parts.length) return { route: routes[0], params: {} };
  for (const route of routes) {
    if (route.pattern.length !== parts.length) continue;
    const params = {};
    const matches = route.pattern.every((segment, index) => {
      if (segment.startsWith(':')) { params[segment.slice(1)] = parts[index]; return true; }
      return segment === parts[index];
    });
    if (matches) return { route, params };
  }
  return null;
}

// The page on screen: its route, its context and the element its data is drawn into. A page is
// drawn again only when its data changed, so what the user points at stays put between polls.
let view = null;
let refreshSequence = 0;
let pollTimer = null;
const pageStates = new Map(); // per route: filters and samples that outlive a visit

function canOperate() {
  return session.me && (session.me.role === 'operator' || session.me.role === 'admin');
}

/**
 * A button for an action that changes something. Shown to everyone; disabled for a viewer with
 * the reason as its tooltip. The server's refusal, if any, is shown in the banner.
 */
function actionButton(label, perform, attributes = {}) {
  const allowed = canOperate();
  return h('button', {
    type: 'button', ...attributes, disabled: !allowed, title: allowed ? attributes.title : 'needs the operator role',
    on: { click: (event) => { event.preventDefault(); act(label, perform); } },
  }, label);
}

async function act(label, perform) {
  try {
    await perform();
    showBanner('info', `${label}: done`);
  } catch (error) {
    if (!(error instanceof APIError && error.status === 401)) showBanner('error', `${label} refused: ${describe(error)}`);
  }
  refresh();
}

function show() {
  const match = currentRoute();
  const page = $('page');
  if (!match) {
    view = null;
    page.replaceChildren(h('h1', {}, 'No such page'), h('p', {}, h('a', { href: '#/fleet' }, 'Fleet')));
    return;
  }
  const { route, params } = match;
  const key = route.pattern.join('/');
  if (!pageStates.has(key)) pageStates.set(key, {});
  const context = {
    params, api, button: actionButton, refresh: () => refresh(), canOperate: canOperate(),
    me: session.me, state: pageStates.get(key),
  };
  const data = h('div', { class: 'data' }, h('p', { class: 'muted' }, 'Loading…'));
  page.replaceChildren(...[h('h1', {}, route.title(params)), route.head && route.head(context), data].filter(Boolean));
  for (const anchor of document.querySelectorAll('#nav a')) {
    anchor.classList.toggle('active', anchor.dataset.route === route.pattern[0]);
  }
  document.title = `${route.title(params)} · Botyard`;
  view = { route, context, data, drawn: undefined };
  refresh();
}

/** Loads the current page's data and draws it when it changed; then polls again in 2 s if visible. */
async function refresh() {
  clearTimeout(pollTimer);
  const sequence = ++refreshSequence;
  const current = view;
  if (!current || !session.me) return;
  try {
    const data = await current.route.load(current.context);
    if (sequence !== refreshSequence || current !== view) return; // a newer refresh or another page
    const drawn = JSON.stringify(data);
    if (drawn !== current.drawn) {
      current.drawn = drawn;
      current.data.replaceChildren(current.route.render(data, current.context));
    }
    $('updated').textContent = `updated ${clock(new Date())}`;
    if (bannerKind === 'refresh') hideBanner();
  } catch (error) {
    if (sequence !== refreshSequence) return;
    if (error instanceof APIError && error.status === 401) return; // signed out already
    showBanner('refresh', `Cannot refresh the page: ${describe(error)}`);
  } finally {
    if (sequence === refreshSequence && session.me && !document.hidden) pollTimer = setTimeout(refresh, POLL_MS);
  }
}

function enter(me) {
  session.me = me;
  $('who').replaceChildren(me.name, h('span', { class: 'role', 'data-testid': 'role' }, me.role));
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('nav').hidden = false;
  $('logout').hidden = false;
  hideBanner();
  show();
}

/** Ends the session (log-out, or a 401 at any time) and shows the login form with the reason. */
function signOut(message) {
  clearTimeout(pollTimer);
  refreshSequence++;
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.me = null;
  view = null;
  pageStates.clear();
  $('page').replaceChildren();
  $('who').replaceChildren();
  $('updated').textContent = '';
  $('app-view').hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  hideBanner();
  $('login-error').textContent = message || '';
  $('login-view').hidden = false;
  $('token').value = '';
  $('token').focus();
}

async function signIn(token) {
  session.token = token;
  try {
    const me = await api('/v1/me');
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login-error').textContent = '';
    enter(me);
  } catch (error) {
    if (error instanceof APIError && error.status === 401) return; // signOut showed why
    session.token = null;
    $('login-error').textContent = describe(error);
  }
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) {
    $('login-error').textContent = 'Enter a token.';
    return;
  }
  signIn(token);
});
$('logout').addEventListener('click', () => signOut(''));
$('banner-close').addEventListener('click', hideBanner);
window.addEventListener('hashchange', () => { if (session.me) show(); });
document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(pollTimer);
  else if (session.me) refresh();
});

if (session.token) signIn(session.token);
else signOut('');
