/**
 * The admin page's script (`/admin/main.js`): opens `/admin/ws`, sends the admin key first when
 * the page asks for one, and redraws from the snapshot the server pushes every second: cards, a
 * chart per rate over the last five minutes (drawn on canvas, no library), and the tables of slow
 * consumers, busiest connections and topics. Text only goes into the page as text.
 */

import { CloseCode } from '../../../protocol/constants.js';
import type { AdminConnection as Conn, AdminSnapshot as Snapshot } from '../../admin-feed.js';

/** Seconds of history the charts show. */
const WINDOW_SEC = 300;
const KEY_STORAGE = 'parley-admin-key';

const $ = (id: string): HTMLElement => document.getElementById(id)!;
const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** One chart: named series of (time, value) points, drawn on a canvas. */
class Chart {
  readonly #canvas: HTMLCanvasElement;
  readonly #now: HTMLElement;
  readonly #max: HTMLElement;
  readonly #series: Array<{ name: string; color: string; points: Array<[number, number]> }>;
  readonly #unit: string;
  /** Time of the newest point (the server's clock): the right edge of the chart. */
  #last = 0;

  constructor(parent: HTMLElement, title: string, series: Array<[string, string]>, unit: string) {
    this.#unit = unit;
    this.#series = series.map(([name, color]) => ({ name, color, points: [] }));
    const figure = document.createElement('figure');
    figure.className = 'chart';
    const caption = document.createElement('figcaption');
    caption.append(title);
    if (series.length > 1) {
      series.forEach(([name], i) => {
        const key = document.createElement('span');
        key.className = `key s${i}`;
        key.textContent = name;
        caption.append(key);
      });
    }
    this.#now = document.createElement('span');
    this.#now.className = 'now';
    caption.append(this.#now);
    this.#canvas = document.createElement('canvas');
    this.#canvas.setAttribute('role', 'img');
    this.#canvas.setAttribute('aria-label', `${title} over the last five minutes`);
    const axis = document.createElement('div');
    axis.className = 'axis';
    const left = document.createElement('span');
    left.textContent = '5 min ago';
    this.#max = document.createElement('span');
    const right = document.createElement('span');
    right.textContent = 'now';
    axis.append(left, this.#max, right);
    figure.append(caption, this.#canvas, axis);
    parent.append(figure);
  }

  /** Adds one value per series at `time` (ms) and redraws. */
  push(time: number, values: number[]): void {
    this.#series.forEach((s, i) => {
      s.points.push([time, values[i] ?? 0]);
      while (s.points.length > 0 && s.points[0]![0] < time - WINDOW_SEC * 1000) s.points.shift();
    });
    this.#now.textContent = this.#series.map((s) => fmt.format(s.points.at(-1)?.[1] ?? 0)).join(' / ') + this.#unit;
    this.#last = time;
    this.draw();
  }

  /** Draws the series, scaled to the largest value shown (at least 1). */
  draw(): void {
    const now = this.#last;
    const canvas = this.#canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext('2d');
    if (g === null) return;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    let top = 1;
    for (const s of this.#series) for (const [, v] of s.points) top = Math.max(top, v);
    top = niceCeiling(top);
    this.#max.textContent = `max ${fmt.format(top)}${this.#unit}`;
    const pad = 4;
    const x = (t: number): number => ((t - (now - WINDOW_SEC * 1000)) / (WINDOW_SEC * 1000)) * width;
    const y = (v: number): number => height - pad - (v / top) * (height - 2 * pad);
    // Grid: quarters of the scale.
    g.strokeStyle = '#eceff3';
    g.lineWidth = 1;
    for (let q = 0; q <= 4; q++) {
      const gy = Math.round(y((top * q) / 4)) + 0.5;
      g.beginPath();
      g.moveTo(0, gy);
      g.lineTo(width, gy);
      g.stroke();
    }
    for (const s of this.#series) {
      if (s.points.length === 0) continue;
      g.beginPath();
      s.points.forEach(([t, v], i) => (i === 0 ? g.moveTo(x(t), y(v)) : g.lineTo(x(t), y(v))));
      g.strokeStyle = s.color;
      g.lineWidth = 2;
      g.lineJoin = 'round';
      g.stroke();
      if (this.#series.length === 1) {
        // One series: fill under it, lightly.
        g.lineTo(x(s.points.at(-1)![0]), height);
        g.lineTo(x(s.points[0]![0]), height);
        g.closePath();
        g.fillStyle = `${s.color}22`;
        g.fill();
      }
    }
  }
}

/** 1, 2 or 5 times a power of ten, at least `n`: a scale that reads well. */
function niceCeiling(n: number): number {
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function card(label: string, value: string | number, bad = false): HTMLElement {
  const d = document.createElement('div');
  d.className = bad ? 'card bad' : 'card';
  const b = document.createElement('b');
  b.textContent = typeof value === 'number' ? fmt.format(value) : value;
  d.append(b, label);
  return d;
}

function table(el: HTMLElement, head: string[], rows: Array<Array<string | number>>): void {
  const t = document.createElement('table');
  const hr = t.createTHead().insertRow();
  for (const name of head) {
    const th = document.createElement('th');
    th.textContent = name;
    th.scope = 'col';
    hr.append(th);
  }
  const body = t.createTBody();
  if (rows.length === 0) {
    const td = body.insertRow().insertCell();
    td.textContent = 'none';
    td.className = 'none';
    td.colSpan = head.length;
  }
  for (const values of rows) {
    const r = body.insertRow();
    for (const v of values) {
      const td = r.insertCell();
      td.textContent = String(v);
      if (typeof v === 'number') td.className = 'n';
    }
  }
  el.replaceChildren(t);
}

function uptime(sec: number): string {
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(sec % 60)}s`;
}

const charts = $('charts');
const connectionsChart = new Chart(charts, 'Connections', [['connections', '#0b57d0']], '');
const messagesChart = new Chart(charts, 'Messages per second', [['in', '#0b57d0'], ['out', '#c2410c']], '/s');
const deliveriesChart = new Chart(charts, 'Deliveries per second', [['deliveries', '#1a7f37']], '/s');
const dropsChart = new Chart(charts, 'Drops per second', [['drops', '#b42318']], '/s');
let lastDropped: { time: number; total: number } | undefined;

const connRow = (c: Conn): Array<string | number> => [c.id, c.user, c.address, c.protocol, c.topics, c.queuedBytes, c.messagesIn, c.messagesOut, c.ageSec];
const connHead = ['id', 'user', 'address', 'protocol', 'topics', 'queued bytes', 'msgs in', 'msgs out', 'age s'];

function state(text: string, ok: boolean): void {
  const el = $('state');
  el.textContent = text;
  el.className = `pill ${ok ? 'ok' : 'bad'}`;
}

function render(s: Snapshot): void {
  const adapterDown = s.adapter.healthy === false;
  $('cards').replaceChildren(
    card('connections', s.connections),
    card('messages in /s', s.rates.messagesInPerSec), card('messages out /s', s.rates.messagesOutPerSec),
    card('publishes /s', s.rates.publishesPerSec), card('deliveries /s', s.rates.deliveriesPerSec),
    card('dropped (total)', s.totals.dropped, s.totals.dropped > 0), card('slow consumers', s.slow.length, s.slow.length > 0),
    card(`adapter (${s.adapter.kind})`, adapterDown ? 'down' : 'up', adapterDown));
  state(s.shuttingDown ? 'shutting down' : 'live', !s.shuttingDown);
  $('uptime').textContent = `up ${uptime(s.uptimeSec)}`;
  // Drops per second from the growth of the total between snapshots.
  const dropRate = lastDropped === undefined || s.time <= lastDropped.time ? 0 : Math.max(0, s.totals.dropped - lastDropped.total) / ((s.time - lastDropped.time) / 1000);
  lastDropped = { time: s.time, total: s.totals.dropped };
  connectionsChart.push(s.time, [s.connections]);
  messagesChart.push(s.time, [s.rates.messagesInPerSec, s.rates.messagesOutPerSec]);
  deliveriesChart.push(s.time, [s.rates.deliveriesPerSec]);
  dropsChart.push(s.time, [dropRate]);
  table($('slow'), connHead, s.slow.map(connRow));
  table($('conns'), connHead, s.busiest.map(connRow));
  table($('topics'), ['topic', 'subscribers', 'published', 'delivered', 'dropped', 'policy'], s.topics.map((t) => [t.topic, t.subscribers, t.published, t.delivered, t.dropped, t.policy]));
}

function connect(key: string | undefined): void {
  const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/admin/ws`);
  ws.onopen = () => {
    if (key !== undefined) ws.send(JSON.stringify({ key }));
  };
  ws.onmessage = (e: MessageEvent<string>) => {
    const m = JSON.parse(e.data) as { t: string; snapshot?: Snapshot };
    if (m.t === 'snapshot' && m.snapshot !== undefined) render(m.snapshot);
  };
  ws.onclose = (e: CloseEvent) => {
    state(`disconnected (${e.code}${e.reason === '' ? '' : `: ${e.reason}`})`, false);
    if (e.code === CloseCode.PolicyViolation) {
      sessionStorage.removeItem(KEY_STORAGE);
      $('login').hidden = false;
      return;
    }
    setTimeout(() => connect(key), 2000);
  };
}

if (document.body.dataset.needsKey === 'true') {
  const saved = sessionStorage.getItem(KEY_STORAGE);
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    const k = ($('key') as HTMLInputElement).value;
    sessionStorage.setItem(KEY_STORAGE, k);
    $('login').hidden = true;
    connect(k);
  });
  if (saved === null) {
    $('login').hidden = false;
    state('key needed', false);
  } else connect(saved);
} else connect(undefined);

// Charts follow the window's width.
window.addEventListener('resize', () => {
  for (const c of [connectionsChart, messagesChart, deliveriesChart, dropsChart]) c.draw();
});
