/**
 * The poker page: the lobby at `<base>/`, a table at `<base>/tables/<id>`. One `ParleyClient`
 * connection carries everything. The session token (from choosing a name) is kept, like the
 * auction's, in sessionStorage, which is per window and wins, and in localStorage, so a new
 * window starts as the last player who chose a name here: two windows of one browser can be two
 * players ("Change name" in one of them), and each comes back as the same player, in the same
 * seat, after a reload or a lost network.
 */
import { ParleyClient } from '../../../client/index.js';
import { h, replace } from './dom.js';
import { LobbyPage } from './lobby.js';
import { TablePage } from './table-page.js';
import type { Session } from './types.js';

const TOKEN_KEY = 'parley-poker-token';
/** What a window that changed name keeps in its sessionStorage: it stays nameless on reload. */
const SIGNED_OUT = 'signed-out';
/** The app's prefix (`/poker`): the page's `<base href>` says where it is mounted. */
const base = new URL(document.baseURI).pathname.replace(/\/$/, '');
const app = document.getElementById('app') as HTMLElement;
const account = document.getElementById('account') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;

let session: Session | null = null;
let client: ParleyClient | null = null;
let page: { destroy(): void } | null = null;

async function postSession(body: Record<string, string>): Promise<Response | null> {
  try {
    return await fetch(`${base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    return null;
  }
}

/** Resumes the stored session, if the server still knows it. */
async function resume(): Promise<void> {
  const own = sessionStorage.getItem(TOKEN_KEY);
  if (own === SIGNED_OUT) return;
  const token = own ?? localStorage.getItem(TOKEN_KEY);
  if (token === null) return;
  const res = await postSession({ token });
  if (res?.ok === true) {
    session = (await res.json()) as Session;
    sessionStorage.setItem(TOKEN_KEY, session.token);
  } else if (res?.status === 404) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (localStorage.getItem(TOKEN_KEY) === token) localStorage.removeItem(TOKEN_KEY);
  }
}

function connect(): void {
  client?.close();
  const next = new ParleyClient(`${base}/ws`, session === null ? {} : { token: session.token });
  next.on('open', () => setStatus('Connected', 'ok'));
  next.on('close', ({ willReconnect }) => setStatus(willReconnect ? 'Reconnecting\u2026' : 'Offline', 'warn'));
  client = next;
}

function setStatus(text: string, kind: string): void {
  status.textContent = text;
  status.className = `status ${kind}`;
}

function renderAccount(): void {
  if (session !== null) {
    replace(account,
      h('span', { class: 'who' }, 'Playing as ', h('strong', {}, session.name)),
      h('button', { type: 'button', class: 'link', onclick: () => {
        // This window forgets the player; new windows forget it only if it is still the last
        // one chosen here, not one another window chose since.
        if (localStorage.getItem(TOKEN_KEY) === session?.token) localStorage.removeItem(TOKEN_KEY);
        sessionStorage.setItem(TOKEN_KEY, SIGNED_OUT);
        session = null;
        restart();
      } }, 'Change name'));
    return;
  }
  const input = h('input', { id: 'name', name: 'name', maxlength: 24, required: true, autocomplete: 'nickname', placeholder: 'e.g. Ada' });
  const error = h('span', { class: 'form-error', role: 'alert' });
  replace(account, h('form', { class: 'name-form', onsubmit: (e: Event) => {
    e.preventDefault();
    void (async () => {
      const res = await postSession({ name: input.value });
      if (res?.status === 201) {
        session = (await res.json()) as Session;
        sessionStorage.setItem(TOKEN_KEY, session.token);
        localStorage.setItem(TOKEN_KEY, session.token);
        restart();
      } else {
        error.textContent = res === null ? 'The server cannot be reached.' : ((await res.json()) as { message: string }).message;
      }
    })();
  } }, h('label', { for: 'name' }, 'Your name'), input, h('button', { type: 'submit', class: 'primary' }, 'Play'), error));
}

function route(): void {
  if (client === null) return;
  page?.destroy();
  const rel = location.pathname.slice(base.length);
  const match = /^\/tables\/([a-z0-9-]{1,40})$/.exec(rel);
  page = match?.[1] !== undefined ? new TablePage(app, client, session, match[1], navigate) : new LobbyPage(app, client, navigate);
}

/** Goes to `path` (relative to the base) without reloading. */
function navigate(path: string): void {
  history.pushState(null, '', `${base}/${path}`);
  route();
  app.querySelector('h1')?.setAttribute('tabindex', '-1');
  app.querySelector<HTMLElement>('h1')?.focus();
}

/** After signing in or out: a new connection under the new identity. */
function restart(): void {
  renderAccount();
  connect();
  route();
}

window.addEventListener('popstate', route);
void resume().then(restart);
