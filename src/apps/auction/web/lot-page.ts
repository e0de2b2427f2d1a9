/**
 * A lot's page: its live price, leader, countdown (server clock), bid history and the bid form.
 * Subscribes to `lot:<id>`: the snapshot and every message carry the whole public state, and
 * the page keeps the newest by `rev`. Bids go as `bid` requests with an idempotency key that
 * stays the same across retries, so a bid resent after a reconnect is applied once.
 */
import type { ParleyError } from '../../../client/index.js';
import type { Connection } from './connection.js';
import { h, lotImage, money, moneyInput, newKey, parseMoney, replace } from './dom.js';
import type { BidReceipt, LotView } from './types.js';

/** What the page needs from its host (main.ts). */
export interface PageHost {
  /** Opens the name dialog. */
  askName: () => void;
}

/** Server reasons a bid is refused, said the way a person would. */
const REASONS: Record<string, string> = {
  NOT_SIGNED_IN: 'Choose a name before bidding.',
  LOT_CLOSED: 'Bidding on this lot has ended.',
  ALREADY_LEADING: 'You already hold the highest bid.',
  OWN_LOT: 'You cannot bid on your own lot.',
  NO_SUCH_LOT: 'This lot does not exist.',
};

function sentence(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}

/** Renders lot `id` into `root`; returns the cleanup. */
export function renderLot(root: HTMLElement, conn: Connection, id: number, host: PageHost): () => void {
  let lot: LotView | undefined;
  let reserve: number | undefined;
  let busy = false;
  let extendedTimer: ReturnType<typeof setTimeout> | undefined;

  const image = h('figure', { class: 'lot-figure' });
  const title = h('h1', { id: 'lot-title' });
  const seller = h('p', { class: 'lot-seller' });
  const price = h('span', { class: 'price', id: 'price' });
  const priceLabel = h('span', { class: 'meta-label' }, 'Current bid');
  const leader = h('span', { class: 'leader', id: 'leader' });
  const priceBox = h('div', { class: 'price-box', 'aria-live': 'polite', 'aria-atomic': 'true' }, priceLabel, price, leader);
  const countdown = h('dd', { class: 'countdown big', id: 'countdown' });
  const bidCount = h('dd', { id: 'bid-count' });
  const reserveFact = h('dd', { id: 'reserve' });
  const facts = h('dl', { class: 'facts' },
    h('div', {}, h('dt', {}, 'Time left'), countdown),
    h('div', {}, h('dt', {}, 'Bids'), bidCount),
    h('div', {}, h('dt', {}, 'Reserve'), reserveFact));
  const extended = h('p', { class: 'extended', role: 'status', hidden: true }, 'A late bid added time to the clock.');
  // A status region: the outcome is said here, not in a toast, to whoever has the lot open.
  const banner = h('p', { class: 'banner', hidden: true, id: 'outcome', role: 'status' });
  const action = h('div', { class: 'bid-area' });
  const description = h('div', { class: 'description' });
  const history = h('ol', { class: 'history', id: 'history', 'aria-label': 'Bids, newest first' });

  const amount = h('input', { id: 'bid-amount', name: 'amount', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'bid-hint bid-feedback', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Place bid');
  const quick = h('button', { type: 'button', class: 'secondary', id: 'quick-bid' });
  const hint = h('p', { class: 'hint', id: 'bid-hint' });
  const feedback = h('p', { class: 'feedback', id: 'bid-feedback', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'bid-form', novalidate: true, 'aria-label': 'Place a bid' },
    h('label', { for: 'bid-amount' }, 'Your bid'),
    h('div', { class: 'input-row' }, h('span', { class: 'prefix', 'aria-hidden': 'true' }, '$'), amount, submit),
    quick, hint, feedback);

  const say = (text: string, kind: 'ok' | 'error' | 'info'): void => {
    feedback.textContent = text;
    feedback.className = `feedback ${kind}`;
  };

  const placeBid = async (cents: number): Promise<void> => {
    if (lot === undefined || busy) return;
    busy = true;
    submit.disabled = true;
    quick.disabled = true;
    say(`Placing your bid of ${money(cents)}…`, 'info');
    // One key for this bid, whatever happens to the connection: retries are applied once.
    const key = newKey();
    const lotId = lot.id;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const receipt = await conn.client.request<BidReceipt>('bid', { lot: lotId, amount: cents, key }, { timeout: 8000 });
          apply(receipt.lot);
          amount.value = '';
          // An outbid notice about this lot is old news once the bidder leads again.
          for (const notice of document.querySelectorAll(`.toast[data-lot="${lotId}"]`)) notice.remove();
          say(`Your bid of ${money(receipt.bid.amount)} is the highest.`, 'ok');
          return;
        } catch (error) {
          const e = error as ParleyError;
          if ((e.code === 'TIMEOUT' || e.code === 'CONNECTION') && attempt < 4) {
            say('The connection is slow; still trying to place your bid…', 'info');
            continue;
          }
          if (e.code === 'NOT_SIGNED_IN') host.askName();
          say(REASONS[e.code] ?? sentence(e.message || 'Your bid could not be placed.'), 'error');
          return;
        }
      }
    } finally {
      busy = false;
      update();
    }
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const cents = parseMoney(amount.value);
    if (cents === undefined || cents <= 0) {
      say('Enter an amount such as 25 or 25.50.', 'error');
      amount.focus();
      return;
    }
    void placeBid(cents);
  });
  quick.addEventListener('click', () => {
    if (lot !== undefined) void placeBid(lot.minimumBid);
  });

  replace(root, h('article', { class: 'lot', 'aria-labelledby': 'lot-title' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: './', 'data-link': true }, '← All lots')),
    h('div', { class: 'lot-grid' },
      image,
      h('div', { class: 'lot-panel' }, seller, title, priceBox, facts, extended, banner, action)),
    h('div', { class: 'lot-lower' },
      h('section', { 'aria-labelledby': 'about-title', class: 'panel' }, h('h2', { id: 'about-title' }, 'About this lot'), description),
      h('section', { 'aria-labelledby': 'history-title', class: 'panel' }, h('h2', { id: 'history-title' }, 'Bid history'), history))));
  title.textContent = 'Loading…';

  function update(): void {
    if (lot === undefined) return;
    const me = conn.me;
    const open = lot.status === 'open';
    document.title = `${lot.title} · ${money(lot.price)} · Parley Auctions`;
    title.textContent = lot.title;
    seller.textContent = `Sold by ${lot.sellerName}`;
    priceLabel.textContent = lot.bidCount === 0 ? 'Starting price' : open ? 'Current bid' : lot.status === 'sold' ? 'Sold for' : 'Highest bid';
    price.textContent = money(lot.price);
    const leading = lot.leader !== null && me !== undefined && lot.leader.user === me.user;
    // Once the lot has ended, nobody "is" the highest bidder any more: say how it came out.
    leader.textContent = lot.leader === null ? 'No bids yet'
      : open ? (leading ? 'You are the highest bidder' : `Highest bidder: ${lot.leader.name}`)
        : lot.status === 'sold' ? (leading ? 'You won this lot' : `Won by ${lot.leader.name}`)
          : leading ? 'Your bid was the highest' : `Highest bid by ${lot.leader.name}`;
    leader.className = `leader${leading && lot.status !== 'unsold' ? ' you' : ''}`;
    countdown.dataset.endsAt = String(lot.endsAt);
    countdown.dataset.status = lot.status;
    bidCount.textContent = String(lot.bidCount);
    reserveFact.textContent = !lot.hasReserve ? 'None' : lot.reserveMet ? 'Met' : open ? 'Not met yet' : 'Not met';
    if (reserve !== undefined && lot.hasReserve) reserveFact.textContent += ` (yours: ${money(reserve)})`;
    replace(description, ...(lot.description === '' ? ['The seller gave no description.'] : lot.description.split('\n').filter((l) => l.trim() !== '').map((line) => h('p', {}, line))));
    replace(history, ...(lot.recentBids.length === 0
      ? [h('li', { class: 'muted' }, 'No bids yet. Be the first.')]
      : lot.recentBids.map((b, i) => h('li', { class: i === 0 ? 'top' : '' },
        h('span', { class: 'who' }, me !== undefined && b.user === me.user ? `${b.name} (you)` : b.name),
        h('span', { class: 'amount' }, money(b.amount)),
        h('time', { datetime: new Date(b.at).toISOString() }, new Date(b.at).toLocaleTimeString())))));

    banner.hidden = open;
    if (!open) {
      banner.className = `banner ${lot.status}`;
      banner.textContent = lot.status === 'sold'
        ? (leading ? `You won this lot for ${money(lot.price)}.` : `Sold to ${lot.leader?.name ?? ''} for ${money(lot.price)}.`)
        : lot.bidCount === 0 ? 'Ended without bids.' : 'Ended without a sale: the reserve was not met.';
    }

    if (!open) {
      replace(action);
    } else if (me === undefined) {
      replace(action, h('p', { class: 'signin-note' }, 'Choose a display name to bid. ', h('button', { type: 'button', class: 'primary', onclick: () => host.askName() }, 'Choose a name')));
    } else if (me.user === lot.seller) {
      replace(action, h('p', { class: 'signin-note' }, 'This is your lot. You will be told when it ends.'));
    } else {
      if (!action.contains(form)) replace(action, form);
      amount.placeholder = moneyInput(lot.minimumBid);
      hint.textContent = `Minimum bid ${money(lot.minimumBid)} · increments of ${money(lot.increment)}`;
      quick.textContent = `Bid ${money(lot.minimumBid)}`;
      const disabled = busy || leading;
      submit.disabled = disabled;
      quick.disabled = disabled;
      if (leading && !busy && !feedback.classList.contains('ok')) say('You hold the highest bid. We will tell you if someone outbids you.', 'ok');
    }
  }

  function apply(next: LotView, force = false): void {
    if (!force && lot !== undefined && next.rev < lot.rev) return;
    const previous = lot;
    lot = next;
    if (previous === undefined || previous.image !== next.image) replace(image, lotImage(next.image, next.title, 'lot-image'));
    if (previous !== undefined && next.status === 'open' && next.endsAt > previous.endsAt) {
      extended.hidden = false;
      clearTimeout(extendedTimer);
      extendedTimer = setTimeout(() => { extended.hidden = true; }, 5000);
    }
    if (previous !== undefined && previous.leader?.user === conn.me?.user && next.leader?.user !== conn.me?.user && feedback.classList.contains('ok')) {
      say('You have been outbid.', 'error');
    }
    update();
    if (reserve === undefined && conn.me !== undefined && next.seller === conn.me.user) {
      conn.client.request<{ reserve?: number }>('lot', { lot: next.id }).then((r) => {
        reserve = r.reserve;
        update();
      }, () => undefined);
    }
  }

  let subscription: ReturnType<Connection['client']['subscribe']> | undefined;
  const subscribe = (): void => {
    subscription?.unsubscribe();
    subscription = conn.client.subscribe(`lot:${id}`, (data) => {
      const message = data as { type?: string; lot?: LotView };
      if (message.type === 'lot' && message.lot !== undefined) apply(message.lot);
    });
    const fromSnapshot = (snapshot: unknown): void => {
      const view = (snapshot as { lot?: LotView } | undefined)?.lot;
      if (view !== undefined) apply(view, true);
    };
    subscription.on('subscribed', (info) => fromSnapshot(info.snapshot));
    subscription.on('reset', (snapshot) => fromSnapshot(snapshot));
    subscription.on('error', () => {
      document.title = 'Lot not found · Parley Auctions';
      replace(root, h('section', { class: 'notfound' }, h('h1', {}, 'Lot not found'), h('p', {}, 'There is no lot with this number. ', h('a', { href: './', 'data-link': true }, 'See all lots'), '.')));
    });
  };
  subscribe();
  const off = conn.onChange(() => {
    subscribe();
    update();
  });
  return () => {
    off();
    clearTimeout(extendedTimer);
    subscription?.unsubscribe();
  };
}
