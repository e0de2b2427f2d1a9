/** Spoken announcements of what happens at the table, through a polite live region. */
import { speakCards } from './cards.js';
import { chips } from './dom.js';
import type { TableEvent } from './types.js';

/** One sentence for an event, or null for events not worth saying. */
export function describeEvent(e: TableEvent): string | null {
  switch (e.type) {
    case 'sit':
      return `${e.name} sits down with ${chips(e.stack)} chips.`;
    case 'leave':
      return e.reason === 'busted' ? `${e.name} is out of chips and leaves.` : `${e.name} leaves the table.`;
    case 'sitOut':
      return e.out ? `${e.name} sits out.` : `${e.name} is back.`;
    case 'hand':
      return `Hand ${e.number} is dealt.`;
    case 'blind':
      return `${e.name} posts the ${e.kind} blind of ${chips(e.amount)}${e.allIn ? ' and is all-in' : ''}.`;
    case 'action': {
      const auto = e.auto ? ' (time ran out)' : '';
      const allIn = e.allIn ? ', all-in' : '';
      switch (e.action) {
        case 'fold': return `${e.name} folds${auto}.`;
        case 'check': return `${e.name} checks${auto}.`;
        case 'call': return `${e.name} calls ${chips(e.added)}${allIn}.`;
        case 'bet': return `${e.name} bets ${chips(e.to)}${allIn}.`;
        default: return `${e.name} raises to ${chips(e.to)}${allIn}.`;
      }
    }
    case 'street': {
      const name = e.street[0]?.toUpperCase() + e.street.slice(1);
      const fresh = e.street === 'flop' ? e.board.slice(0, 3) : e.board.slice(-1);
      return `${name}: ${speakCards(fresh)}.`;
    }
    case 'uncalled':
      return `${chips(e.amount)} uncalled returned to ${e.name}.`;
    case 'showdown':
      return e.shown.map((s) => `${s.name} shows ${speakCards(s.cards)}: ${s.description}.`).join(' ');
    case 'win':
      return `${e.name} wins ${chips(e.amount)}${e.pot > 0 ? ` from side pot ${e.pot}` : ''}${e.hand === null ? '' : ` with ${e.hand}`}.`;
  }
}

/** Says `text` through the page's live region. */
export function announce(text: string): void {
  const region = document.getElementById('announcer');
  if (region === null || text === '') return;
  // A fresh node per message, so repeated sentences are read again.
  const line = document.createElement('p');
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 5) region.firstElementChild?.remove();
}
