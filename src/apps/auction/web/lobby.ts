/**
 * The lobby: every running lot with its live price and countdown, then the recently ended ones.
 * Subscribes to `lobby`; the snapshot gives the list, each message one lot's new summary.
 */
import type { Connection } from './connection.js';
import { h, lotImage, money, replace } from './dom.js';
import type { LotSummary } from './types.js';

/** Renders the lobby into `root`; returns the cleanup. */
export function renderLobby(root: HTMLElement, conn: Connection): () => void {
  const lots = new Map<number, LotSummary>();
  const running = h('ul', { class: 'grid', 'aria-label': 'Running lots' });
  const ended = h('ul', { class: 'grid ended', 'aria-label': 'Ended lots' });
  const endedSection = h('section', { 'aria-labelledby': 'ended-title', hidden: true }, h('h2', { id: 'ended-title' }, 'Recently ended'), ended);
  const empty = h('p', { class: 'empty', hidden: true }, 'No lots are running right now. ', h('a', { href: 'sell', 'data-link': true }, 'Put something up for auction'), '.');
  const status = h('p', { class: 'loading', role: 'status' }, 'Loading lots…');

  replace(
    root,
    h('section', { class: 'hero', 'aria-labelledby': 'lobby-title' },
      h('div', {},
        h('h1', { id: 'lobby-title' }, 'Live lots'),
        h('p', {}, 'Every bid shows up on every screen the moment it is placed. Countdowns run on the auction house clock.')),
      h('a', { class: 'button primary', href: 'sell', 'data-link': true }, 'Sell an item')),
    status,
    h('section', { 'aria-label': 'Running lots' }, running, empty),
    endedSection,
  );

  const draw = (): void => {
    const all = [...lots.values()];
    const open = all.filter((l) => l.status === 'open').sort((a, b) => a.endsAt - b.endsAt);
    const done = all.filter((l) => l.status !== 'open').sort((a, b) => b.endsAt - a.endsAt).slice(0, 12);
    replace(running, ...open.map(card));
    replace(ended, ...done.map(card));
    empty.hidden = open.length > 0;
    endedSection.hidden = done.length === 0;
    status.hidden = true;
  };
  const upsert = (lot: LotSummary): void => {
    const known = lots.get(lot.id);
    if (known === undefined || lot.rev >= known.rev) lots.set(lot.id, lot);
  };
  const fromSnapshot = (snapshot: unknown): void => {
    const list = (snapshot as { lots?: LotSummary[] } | undefined)?.lots;
    if (!Array.isArray(list)) return;
    lots.clear();
    for (const lot of list) upsert(lot);
    draw();
  };

  let subscription: ReturnType<Connection['client']['subscribe']> | undefined;
  const subscribe = (): void => {
    subscription?.unsubscribe();
    subscription = conn.client.subscribe('lobby', (data) => {
      const message = data as { type?: string; lot?: LotSummary };
      if (message.type === 'lot' && message.lot !== undefined) {
        upsert(message.lot);
        draw();
      }
    });
    subscription.on('subscribed', (info) => fromSnapshot(info.snapshot));
    subscription.on('reset', (snapshot) => fromSnapshot(snapshot));
  };
  subscribe();
  const off = conn.onChange(subscribe);
  return () => {
    off();
    subscription?.unsubscribe();
  };
}

function card(lot: LotSummary): HTMLLIElement {
  const open = lot.status === 'open';
  const label = open ? 'Current bid' : lot.status === 'sold' ? 'Sold for' : 'Not sold';
  return h('li', { class: `card${open ? '' : ' is-ended'}`, 'data-lot': lot.id },
    h('a', { href: `lots/${lot.id}`, 'data-link': true, class: 'card-link' },
      lotImage(lot.image, '', 'card-image'),
      h('div', { class: 'card-body' },
        h('h3', { class: 'card-title' }, lot.title),
        h('p', { class: 'card-seller' }, `Sold by ${lot.sellerName}`),
        h('div', { class: 'card-meta' },
          h('div', {},
            h('span', { class: 'meta-label' }, label),
            h('span', { class: 'card-price' }, lot.status === 'unsold' ? '—' : money(lot.price))),
          h('div', { class: 'card-right' },
            h('span', { class: 'meta-label' }, `${lot.bidCount} ${lot.bidCount === 1 ? 'bid' : 'bids'}`),
            open
              ? h('span', { class: 'countdown', 'data-ends-at': lot.endsAt }, '')
              : h('span', { class: `pill ${lot.status}` }, lot.status === 'sold' ? 'Sold' : 'Ended'))))));
}
