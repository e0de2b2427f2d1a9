/** The lobby: every table with its stakes and how many seats are taken. */
import type { ParleyClient, Subscription } from '../../../client/index.js';
import { chips, h, replace } from './dom.js';
import type { LobbyTable } from './types.js';

/** The lobby page, live while shown. */
export class LobbyPage {
  readonly #root: HTMLElement;
  readonly #list: HTMLElement;
  readonly #sub: Subscription;

  constructor(root: HTMLElement, client: ParleyClient, navigate: (path: string) => void) {
    this.#root = root;
    this.#list = h('ul', { class: 'lobby-list', 'aria-busy': 'true' }, h('li', { class: 'muted' }, 'Loading tables\u2026'));
    replace(root,
      h('section', { class: 'lobby', 'aria-labelledby': 'lobby-title' },
        h('h1', { id: 'lobby-title' }, 'Tables'),
        h('p', { class: 'lede' }, 'No-limit Texas Hold\u2019em. Pick a table to watch; choose a name to take a seat.'),
        this.#list));
    const render = (data: unknown): void => this.#render((data as { tables: LobbyTable[] }).tables, navigate);
    this.#sub = client.subscribe('poker:lobby', render);
    this.#sub.on('subscribed', ({ snapshot }) => snapshot !== undefined && render(snapshot));
    this.#sub.on('reset', (snapshot) => render(snapshot));
  }

  destroy(): void {
    this.#sub.unsubscribe();
    this.#root.replaceChildren();
  }

  #render(tables: LobbyTable[], navigate: (path: string) => void): void {
    this.#list.removeAttribute('aria-busy');
    replace(this.#list, ...tables.map((t) => {
      const href = `tables/${t.id}`;
      const seatsLeft = t.seats - t.players;
      return h('li', { class: 'lobby-table' },
        h('div', { class: 'lobby-felt', 'aria-hidden': 'true' }, h('span', {}, `${t.players}/${t.seats}`)),
        h('div', { class: 'lobby-info' },
          h('h2', {}, h('a', { href, onclick: (e: Event) => { e.preventDefault(); navigate(href); } }, t.name)),
          h('p', {}, `Blinds ${chips(t.smallBlind)}/${chips(t.bigBlind)} \u00b7 buy-in ${chips(t.minBuyIn)}\u2013${chips(t.maxBuyIn)}`),
          h('p', { class: 'muted' }, `${t.players} of ${t.seats} seats taken`, t.playing ? ' \u00b7 hand in play' : '')),
        h('a', { class: 'button', href, 'aria-label': `${seatsLeft > 0 ? 'Join' : 'Watch'} ${t.name}`, onclick: (e: Event) => { e.preventDefault(); navigate(href); } }, seatsLeft > 0 ? 'Join' : 'Watch'));
    }));
  }
}
