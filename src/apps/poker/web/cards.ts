/** Playing cards drawn with CSS: no images to download, and a spoken name for screen readers. */
import { h } from './dom.js';

const RANKS: Record<string, [string, string]> = {
  '2': ['2', 'Two'], '3': ['3', 'Three'], '4': ['4', 'Four'], '5': ['5', 'Five'], '6': ['6', 'Six'], '7': ['7', 'Seven'],
  '8': ['8', 'Eight'], '9': ['9', 'Nine'], T: ['10', 'Ten'], J: ['J', 'Jack'], Q: ['Q', 'Queen'], K: ['K', 'King'], A: ['A', 'Ace'],
};
const SUITS: Record<string, [string, string, boolean]> = {
  c: ['\u2663', 'clubs', false], d: ['\u2666', 'diamonds', true], h: ['\u2665', 'hearts', true], s: ['\u2660', 'spades', false],
};

/** "Ace of spades" for `As`. */
export function cardLabel(card: string): string {
  const rank = RANKS[card[0] ?? ''];
  const suit = SUITS[card[1] ?? ''];
  return rank === undefined || suit === undefined ? 'unknown card' : `${rank[1]} of ${suit[1]}`;
}

/** A face-up card. `highlight` marks a card of the winning five. */
export function faceUp(card: string, options: { small?: boolean; highlight?: boolean } = {}): HTMLElement {
  const rank = RANKS[card[0] ?? ''] ?? ['?', '?'];
  const suit = SUITS[card[1] ?? ''] ?? ['?', '?', false];
  const classes = ['card', suit[2] ? 'red' : 'black', options.small === true ? 'small' : '', options.highlight === true ? 'best' : ''].filter(Boolean).join(' ');
  return h('span', { class: classes, role: 'img', 'aria-label': cardLabel(card), 'data-card': card },
    h('span', { class: 'corner', 'aria-hidden': 'true' }, rank[0], h('br'), suit[0]),
    h('span', { class: 'pip', 'aria-hidden': 'true' }, suit[0]),
  );
}

/** A face-down card. */
export function faceDown(small = false): HTMLElement {
  return h('span', { class: `card back${small ? ' small' : ''}`, role: 'img', 'aria-label': 'face-down card' });
}

/** Names a list of cards for speech: "Ace of spades, King of hearts". */
export function speakCards(cards: readonly string[]): string {
  return cards.map(cardLabel).join(', ');
}
