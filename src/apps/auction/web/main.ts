/**
 * The auction's pages: the lobby (`./`), a lot (`lots/<id>`) and the seller's form (`sell`),
 * routed by path under the app's base (`<base href>`), one real-time connection for all of
 * them, private notices as toasts, and countdowns that follow the server's clock.
 */
import { Connection } from './connection.js';
import { h, money, replace, timeLeft } from './dom.js';
import { renderLobby } from './lobby.js';
import { renderLot } from './lot-page.js';
import { renderSell } from './sell-page.js';
import type { Notice } from './types.js';

const conn = new Connection();
const main = document.getElementById('main')!;
const who = document.getElementById('who')!;
const status = document.getElementById('conn')!;
const toasts = document.getElementById('toasts')!;
const dialog = document.getElementById('name-dialog') as HTMLDialogElement;
const nameForm = document.getElementById('name-form') as HTMLFormElement;
const nameInput = document.getElementById('name-input') as HTMLInputElement;
const nameError = document.getElementById('name-error')!;
const base = new URL(document.baseURI);

let cleanup: () => void = () => undefined;

/** The route: the path under the base. */
function route(): string {
  const path = location.pathname;
  return path.startsWith(base.pathname) ? path.slice(base.pathname.length) : '';
}

function render(focus = false): void {
  cleanup();
  const path = route();
  const lot = /^lots\/(\d{1,15})$/.exec(path);
  const host = { askName, go };
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const here = new URL(link.href).pathname === location.pathname;
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (lot !== null) {
    cleanup = renderLot(main, conn, Number(lot[1]), host);
  } else if (path === 'sell') {
    cleanup = renderSell(main, conn, host);
  } else {
    document.title = 'Live lots · Parley Auctions';
    cleanup = renderLobby(main, conn);
  }
  // After a navigation, move focus to the new content, as a page load would for screen readers.
  if (focus) main.focus();
}

/** Goes to `path` (relative to the base) without reloading. */
function go(path: string): void {
  history.pushState(null, '', new URL(path, base).href);
  window.scrollTo(0, 0);
  render(true);
}

document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a[data-link]');
  if (!(link instanceof HTMLAnchorElement) || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  go(link.getAttribute('href') ?? './');
});
window.addEventListener('popstate', () => render(true));

// ---- identity -------------------------------------------------------------------------------

function askName(): void {
  nameError.textContent = '';
  nameInput.value = conn.me?.name ?? '';
  if (!dialog.open) dialog.showModal();
  nameInput.focus();
}

nameForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  if (name.length === 0) {
    nameError.textContent = 'Enter a name of 1 to 32 characters.';
    return;
  }
  conn.signIn(name).then(() => dialog.close(), (error: Error) => {
    nameError.textContent = error.message;
  });
});
document.getElementById('name-cancel')!.addEventListener('click', () => dialog.close());

function drawWho(): void {
  const me = conn.me;
  replace(who, me === undefined
    ? h('button', { type: 'button', class: 'secondary small', onclick: askName }, 'Choose a name')
    : h('span', { class: 'me' }, 'Bidding as ', h('strong', { id: 'me-name' }, me.name), ' ',
      h('button', { type: 'button', class: 'link small', onclick: () => conn.signOut(), 'aria-label': `Sign out ${me.name}` }, 'Sign out')));
}

// ---- private notices ------------------------------------------------------------------------

function toast(text: string, lot: number, kind: 'warn' | 'good' | 'info', ended = false): void {
  const here = route() === `lots/${lot}`;
  // How a lot ended is the lot page's own banner (a status region): on that page a toast would
  // only say it again over the bid history.
  if (ended && here) return;
  // The newest notice about a lot replaces the older ones: only the current news stays up.
  for (const old of toasts.querySelectorAll(`.toast[data-lot="${lot}"]`)) old.remove();
  const item = h('div', { class: `toast ${kind}`, 'data-lot': lot },
    h('p', {}, text),
    h('div', { class: 'toast-actions' },
      here ? null : h('a', { href: `lots/${lot}`, 'data-link': true }, 'Open lot'),
      h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss notice', onclick: () => item.remove() }, 'Dismiss')));
  toasts.append(item);
  setTimeout(() => item.remove(), 12_000);
}

let notices: ReturnType<typeof conn.client.subscribe> | undefined;
function listen(): void {
  notices?.unsubscribe();
  notices = undefined;
  const me = conn.me;
  if (me === undefined) return;
  notices = conn.client.subscribe(`user:${me.user}`, (data) => {
    const notice = data as Notice;
    if (notice.type === 'outbid') {
      toast(`You were outbid on “${notice.title}”: the price is now ${money(notice.price)}.`, notice.lot, 'warn');
    } else if (notice.type === 'ended' && notice.won === true) {
      toast(`You won “${notice.title}” for ${money(notice.price ?? 0)}.`, notice.lot, 'good', true);
    } else if (notice.type === 'ended' && notice.seller === true) {
      toast(notice.status === 'sold' ? `Your lot “${notice.title}” sold for ${money(notice.price ?? 0)}.` : `Your lot “${notice.title}” ended without a sale.`, notice.lot, 'info', true);
    }
  });
}

// ---- connection state and the clock ---------------------------------------------------------

conn.onState((state) => {
  const live = state === 'open';
  status.textContent = live ? 'Live' : state === 'closed' ? 'Offline' : 'Reconnecting…';
  status.className = `conn ${live ? 'live' : 'down'}`;
});
conn.onChange(() => {
  drawWho();
  listen();
});

/** Every countdown on the page, by the server's clock, four times a second. */
function tick(): void {
  const now = conn.serverNow();
  for (const el of document.querySelectorAll<HTMLElement>('[data-ends-at]')) {
    const left = Number(el.dataset.endsAt) - now;
    const ended = el.dataset.status !== undefined && el.dataset.status !== 'open';
    const text = ended ? 'Ended' : left <= 0 ? 'Closing…' : timeLeft(left);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('soon', !ended && left < 60_000);
  }
}
setInterval(tick, 250);
new MutationObserver(tick).observe(main, { childList: true, subtree: true });

drawWho();
listen();
render();
