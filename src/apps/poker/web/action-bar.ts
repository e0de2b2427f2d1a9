/**
 * The acting player's controls: fold, check or call, and bet or raise with an amount box, a
 * slider and presets. Keyboard: F folds, C checks or calls, R moves to the amount (when focus is
 * not in a text box); every control is a native button or input with a label.
 */
import { chips, h } from './dom.js';
import type { LegalActions } from './types.js';

/** Sends an action: `amount` is the total for this round ("raise to"). */
export type OnAct = (action: string, amount?: number) => void;

export class ActionBar {
  readonly #onAct: OnAct;
  #el: HTMLElement | null = null;
  #primary: HTMLButtonElement | null = null;
  #fold: HTMLButtonElement | null = null;
  #amount: HTMLInputElement | null = null;
  readonly #onKey = (e: KeyboardEvent): void => this.#key(e);

  constructor(onAct: OnAct) {
    this.#onAct = onAct;
    document.addEventListener('keydown', this.#onKey);
  }

  /** Builds the bar for these options. */
  render(legal: LegalActions, currentBet: number, pot: number, committed: number, bigBlind: number): HTMLElement {
    const callLabel = legal.canCheck ? 'Check' : `Call ${chips(legal.callAmount)}${legal.callAmount >= legal.maxTo - committed ? ' (all-in)' : ''}`;
    this.#fold = h('button', { type: 'button', class: 'fold', 'aria-keyshortcuts': 'F', onclick: () => this.#onAct('fold') }, 'Fold');
    this.#primary = h('button', { type: 'button', class: 'primary call', 'aria-keyshortcuts': 'C', onclick: () => this.#onAct(legal.canCheck ? 'check' : 'call') }, callLabel);
    const parts: HTMLElement[] = [this.#fold, this.#primary];
    this.#amount = null;
    if (legal.canBet || legal.canRaise) {
      const verb = legal.canBet ? 'Bet' : 'Raise to';
      const action = legal.canBet ? 'bet' : 'raise';
      const clamp = (n: number): number => Math.max(legal.minTo, Math.min(legal.maxTo, Math.round(n)));
      const amount = h('input', { id: 'amount', type: 'number', min: legal.minTo, max: legal.maxTo, step: 1, value: legal.minTo, inputmode: 'numeric' });
      const slider = h('input', { type: 'range', min: legal.minTo, max: legal.maxTo, step: Math.max(1, Math.floor(bigBlind / 2)), value: legal.minTo, 'aria-label': `${verb} amount` });
      const go = h('button', { type: 'submit', class: 'raise', 'aria-keyshortcuts': 'R' }, `${verb} ${chips(legal.minTo)}`);
      const hint = h('span', { class: 'amount-hint', id: 'amount-hint', 'aria-live': 'polite' });
      amount.setAttribute('aria-describedby', 'amount-hint');
      const set = (n: number): void => {
        const v = clamp(n);
        go.disabled = false;
        amount.removeAttribute('aria-invalid');
        hint.textContent = '';
        amount.value = String(v);
        slider.value = String(v);
        go.textContent = v === legal.maxTo ? `All-in ${chips(v)}` : `${verb} ${chips(v)}`;
      };
      // Only amounts the server takes are offered: a typed amount out of range disables the
      // button and says the range, and leaving the box puts it back in range.
      amount.addEventListener('input', () => {
        const v = Number(amount.value);
        const inRange = amount.value.trim() !== '' && Number.isFinite(v) && v >= legal.minTo && v <= legal.maxTo;
        go.disabled = !inRange;
        amount.setAttribute('aria-invalid', String(!inRange));
        hint.textContent = inRange ? '' : v < legal.minTo || !Number.isFinite(v) ? `At least ${chips(legal.minTo)}` : `At most ${chips(legal.maxTo)}`;
        if (inRange) {
          slider.value = String(Math.round(v));
          go.textContent = Math.round(v) === legal.maxTo ? `All-in ${chips(legal.maxTo)}` : `${verb} ${chips(Math.round(v))}`;
        }
      });
      amount.addEventListener('change', () => {
        const v = Number(amount.value);
        set(amount.value.trim() === '' || !Number.isFinite(v) ? legal.minTo : v);
      });
      slider.addEventListener('input', () => set(Number(slider.value)));
      const toCall = currentBet - committed;
      const potTo = (share: number): number => currentBet + (pot + toCall) * share;
      const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Amount presets' },
        h('button', { type: 'button', onclick: () => set(legal.minTo) }, 'Min'),
        h('button', { type: 'button', onclick: () => set(legal.canBet ? pot / 2 : potTo(0.5)) }, '\u00bd pot'),
        h('button', { type: 'button', onclick: () => set(legal.canBet ? pot : potTo(1)) }, 'Pot'),
        h('button', { type: 'button', onclick: () => set(legal.maxTo) }, 'All-in'));
      this.#amount = amount;
      // novalidate: the range is checked here as the amount is typed (the browser's bubble would
      // hide the hint); the server checks again and its refusal is shown in the alert.
      parts.push(h('form', { class: 'raise-form', novalidate: true, onsubmit: (e: Event) => {
        e.preventDefault();
        const v = Math.round(Number(amount.value));
        // Never a different amount than the one shown: out of range, nothing is sent.
        if (Number.isFinite(v) && v >= legal.minTo && v <= legal.maxTo) this.#onAct(action, v);
        // The hint comes last: when it goes, nothing before it moves under the pointer (a click on
        // a preset blurs the box, which clears the hint between mouse down and up).
      } }, h('label', { for: 'amount' }, verb), amount, slider, presets, go, hint));
    }
    this.#el = h('div', { class: 'action-bar', role: 'group', 'aria-label': 'Your move' }, ...parts);
    return this.#el;
  }

  /** Puts focus on the main button (check or call). */
  focus(): void {
    this.#primary?.focus();
  }

  /** The bar is no longer shown. */
  detach(): void {
    this.#el = this.#primary = this.#fold = this.#amount = null;
  }

  destroy(): void {
    document.removeEventListener('keydown', this.#onKey);
    this.detach();
  }

  #key(e: KeyboardEvent): void {
    if (this.#el === null || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement | null;
    if (target !== null && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
    const key = e.key.toLowerCase();
    if (key === 'f') this.#fold?.click();
    else if (key === 'c') this.#primary?.click();
    else if (key === 'r' && this.#amount !== null) {
      this.#amount.focus();
      this.#amount.select();
    } else return;
    e.preventDefault();
  }
}
