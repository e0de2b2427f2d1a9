/**
 * The seller's page: a form for a new lot (title, description, image, prices, duration), sent
 * as a `createLot` request. The end time is computed on the server's clock.
 */
import type { ParleyError } from '../../../client/index.js';
import type { Connection } from './connection.js';
import { h, parseMoney, replace } from './dom.js';
import type { PageHost } from './lot-page.js';
import type { LotView } from './types.js';

const ILLUSTRATIONS: [string, string][] = [['camera', 'Camera'], ['teapot', 'Teapot'], ['bicycle', 'Bicycle'], ['painting', 'Painting']];

const DURATIONS: [number, string][] = [[60_000, '1 minute'], [2 * 60_000, '2 minutes'], [5 * 60_000, '5 minutes'], [15 * 60_000, '15 minutes'], [3600_000, '1 hour'], [86_400_000, '1 day'], [7 * 86_400_000, '7 days']];

/** Renders the sell form into `root`; `go` opens the new lot's page. Returns the cleanup. */
export function renderSell(root: HTMLElement, conn: Connection, host: PageHost & { go: (path: string) => void }): () => void {
  document.title = 'Sell an item · Parley Auctions';
  const field = (id: string, label: string, control: HTMLElement, help?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), control, help !== undefined ? h('p', { class: 'hint', id: `${id}-help` }, help) : null);

  const title = h('input', { id: 'lot-title-input', name: 'title', required: true, maxlength: 80, minlength: 3, autocomplete: 'off' });
  const description = h('textarea', { id: 'lot-description', name: 'description', rows: 4, maxlength: 2000 });
  const start = h('input', { id: 'lot-start', name: 'startingPrice', inputmode: 'decimal', required: true, value: '10.00', 'aria-describedby': 'lot-start-help' });
  const increment = h('input', { id: 'lot-increment', name: 'increment', inputmode: 'decimal', required: true, value: '1.00', 'aria-describedby': 'lot-increment-help' });
  const reserve = h('input', { id: 'lot-reserve', name: 'reserve', inputmode: 'decimal', placeholder: 'none', 'aria-describedby': 'lot-reserve-help' });
  const duration = h('select', { id: 'lot-duration', name: 'duration' }, ...DURATIONS.map(([ms, label]) => h('option', { value: ms, selected: ms === 5 * 60_000 }, label)));
  const url = h('input', { id: 'lot-image-url', name: 'imageUrl', type: 'url', placeholder: 'https://…', 'aria-describedby': 'lot-image-url-help' });
  const pictures = h('div', { class: 'pictures', role: 'radiogroup', 'aria-label': 'Illustration' },
    ...ILLUSTRATIONS.map(([name, label], i) => h('label', { class: 'picture' },
      h('input', { type: 'radio', name: 'illustration', value: name, checked: i === 0 }),
      h('img', { src: `images/${name}.svg`, alt: '' }),
      h('span', {}, label))));
  const feedback = h('p', { class: 'feedback', role: 'status', 'aria-live': 'polite', id: 'sell-feedback' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start the auction');

  const form = h('form', { class: 'sell-form panel', novalidate: true, 'aria-labelledby': 'sell-title' },
    field(title.id, 'Title', title),
    field(description.id, 'Description', description),
    h('fieldset', {}, h('legend', {}, 'Picture'), pictures, field(url.id, 'Or an image address', url, 'A link to a picture on the web (http or https). Leave empty to use the illustration.')),
    h('div', { class: 'row' },
      field(start.id, 'Starting price ($)', start, 'The first bid must be at least this.'),
      field(increment.id, 'Bid increment ($)', increment, 'Each bid must beat the last by this much.')),
    h('div', { class: 'row' },
      field(reserve.id, 'Reserve price ($, optional)', reserve, 'Below this the lot does not sell. Only you see it.'),
      field(duration.id, 'Runs for', duration)),
    h('div', { class: 'actions' }, submit),
    feedback);

  const say = (text: string, kind: 'ok' | 'error' | 'info'): void => {
    feedback.textContent = text;
    feedback.className = `feedback ${kind}`;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (conn.me === undefined) {
      say('Choose a display name first.', 'error');
      host.askName();
      return;
    }
    const startingPrice = parseMoney(start.value);
    const step = parseMoney(increment.value);
    const reserveCents = reserve.value.trim() === '' ? 0 : parseMoney(reserve.value);
    if (title.value.trim().length < 3) return fail(title, 'Give the lot a title of at least 3 characters.');
    if (startingPrice === undefined || startingPrice < 1) return fail(start, 'Enter a starting price such as 10 or 10.50.');
    if (step === undefined || step < 1) return fail(increment, 'Enter an increment such as 1 or 0.50.');
    if (reserveCents === undefined) return fail(reserve, 'Enter a reserve such as 50, or leave it empty.');
    const picked = pictures.querySelector<HTMLInputElement>('input:checked')?.value ?? 'camera';
    const image = url.value.trim() !== '' ? url.value.trim() : `illustration:${picked}`;
    const input = {
      title: title.value,
      description: description.value,
      image,
      startingPrice,
      increment: step,
      reserve: reserveCents,
      endsAt: Math.round(conn.serverNow() + Number(duration.value)),
    };
    submit.disabled = true;
    say('Creating your lot…', 'info');
    conn.client.request<LotView>('createLot', input).then((lot) => {
      host.go(`lots/${lot.id}`);
    }, (error: ParleyError) => {
      submit.disabled = false;
      const field = /^(\w+):/.exec(error.message)?.[1];
      const target = { title, description, image: url, startingPrice: start, increment, reserve, endsAt: duration }[field ?? ''] as HTMLElement | undefined;
      fail(target, error.code === 'NOT_SIGNED_IN' ? 'Choose a display name first.' : `Not created: ${error.message}.`);
    });
  });

  function fail(target: HTMLElement | undefined, message: string): void {
    say(message, 'error');
    target?.setAttribute('aria-invalid', 'true');
    target?.focus();
  }
  form.addEventListener('input', (event) => (event.target as HTMLElement).removeAttribute('aria-invalid'));

  replace(root, h('section', { class: 'sell' },
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: './', 'data-link': true }, '← All lots')),
    h('h1', { id: 'sell-title' }, 'Sell an item'),
    h('p', { class: 'lead' }, 'Describe your item, set a starting price and how long bidding runs. Late bids add time, so nobody wins by sniping.'),
    conn.me === undefined ? h('p', { class: 'signin-note' }, 'You need a display name to sell. ', h('button', { type: 'button', class: 'primary', onclick: () => host.askName() }, 'Choose a name')) : null,
    form));
  return () => undefined;
}
