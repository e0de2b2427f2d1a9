/**
 * Small DOM helpers. Text is only ever set as text (`textContent`, attributes), never parsed as
 * HTML, so nothing a user typed can become markup.
 */

/** Attributes and listeners for {@link h}. */
export type Props = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

/** A child: an element, text, or nothing. */
export type Child = Node | string | number | null | undefined | false;

/**
 * Creates an element. `on<event>` props become listeners, `class` the class name, booleans
 * toggle attributes, everything else is set as an attribute (as text).
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

/** Appends children (text as text nodes). */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's content. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Cents as money: `$1,234.50`. */
export function money(cents: number): string {
  return `$${Math.floor(cents / 100).toLocaleString('en-US')}.${(cents % 100).toString().padStart(2, '0')}`;
}

/**
 * Reads money typed by a person (`12`, `12.5`, `1,200.00`, `$15`) as cents, or `undefined`
 * when it is not an amount.
 */
export function parseMoney(text: string): number | undefined {
  const cleaned = text.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(cleaned)) return undefined;
  const [whole = '0', fraction = ''] = cleaned.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** Cents as the plain number a money input shows: `12.50`. */
export function moneyInput(cents: number): string {
  return `${Math.floor(cents / 100)}.${(cents % 100).toString().padStart(2, '0')}`;
}

/** Time left as people say it: `2d 4h`, `1h 05m`, `4m 09s`, `12s`, or `ended`. */
export function timeLeft(ms: number): string {
  if (ms <= 0) return 'ended';
  const s = Math.ceil(ms / 1000);
  const d = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number): string => n.toString().padStart(2, '0');
  if (d > 0) return `${d}d ${hours}h`;
  if (hours > 0) return `${hours}h ${two(m)}m`;
  if (m > 0) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

/** Where a lot's image is: a bundled illustration or the seller's URL (http(s) only, checked by the server). */
export function imageUrl(image: string): string {
  if (image.startsWith('illustration:')) return `images/${image.slice('illustration:'.length)}.svg`;
  return /^https?:\/\//i.test(image) ? image : 'images/placeholder.svg';
}

/** An image of a lot, with a placeholder if it cannot be loaded. */
export function lotImage(image: string, alt: string, className: string): HTMLImageElement {
  const img = h('img', { src: imageUrl(image), alt, class: className, loading: 'lazy', referrerpolicy: 'no-referrer', decoding: 'async' });
  img.addEventListener('error', () => {
    if (!img.src.endsWith('images/placeholder.svg')) img.src = 'images/placeholder.svg';
  });
  return img;
}

/** A random idempotency key for a bid (`getRandomValues` works on plain-http pages too). */
export function newKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
