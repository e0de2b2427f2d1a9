/**
 * The poker page: the lobby at `<base>/`, a table at `<base>/tables/<id>`. One `ParleyClient`
 * connection carries everything; the session token (from choosing a name) is kept in
 * localStorage, so a reload or a lost network comes back as the same player, in the same seat.
 */
import { ParleyClient } from '../../../client/index.js';
import { h, replace } from './dom.js';
import { LobbyPage } from './lobby.js';
import { TablePage } from './table-page.js';
import type { Session } from './types.js';

const TOKEN_KEY = 'parley-poker-token';
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
  const token = localStorage.getItem(TOKEN_KEY);
  if (token === null) return;
  const res = await postSession({ token });
  if (res?.ok === true) session = (await res.json()) as Session;
  else if (res?.status === 404) localStorage.removeItem(TOKEN_KEY);
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
        localStorage.removeItem(TOKEN_KEY);
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
