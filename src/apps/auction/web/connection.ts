/**
 * The page's identity and its one real-time connection. A visitor picks a display name; the
 * server answers with a secret token, sent as `?token=` on the WebSocket URL. Without a token
 * the page still connects, to watch.
 *
 * The session is kept in localStorage, so a new window starts as the last person who signed in
 * here, and also in sessionStorage, which is per window and wins: two windows of one browser
 * can be two people (sign out and pick another name in one of them), and each stays who it is
 * across reloads.
 */
import { ParleyClient, type ClientState } from '../../../client/index.js';

const STORAGE_KEY = 'parley-auction-session';

/** Who this browser is signed in as. */
export interface Me {
  token: string;
  user: string;
  name: string;
}

function read(storage: Storage): Me | undefined {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (raw === null) return undefined;
    const me = JSON.parse(raw) as Partial<Me>;
    return typeof me.token === 'string' && typeof me.user === 'string' && typeof me.name === 'string' ? (me as Me) : undefined;
  } catch {
    return undefined;
  }
}

/** What a window that signed out keeps in its sessionStorage: it stays signed out on reload. */
const SIGNED_OUT = 'signed-out';

function load(): Me | undefined {
  if (sessionStorage.getItem(STORAGE_KEY) === SIGNED_OUT) return undefined;
  return read(sessionStorage) ?? read(localStorage);
}

/** The connection and the session, with a callback when either changes. */
export class Connection {
  #me: Me | undefined = load();
  #client: ParleyClient;
  readonly #listeners = new Set<() => void>();
  readonly #stateListeners = new Set<(state: ClientState) => void>();

  constructor() {
    this.#client = this.#open();
  }

  /** The signed-in person, if any. */
  get me(): Me | undefined {
    return this.#me;
  }

  /** The current client (a new one after sign-in or sign-out). */
  get client(): ParleyClient {
    return this.#client;
  }

  /** The server's clock now, ms since the epoch: countdowns follow it, not the browser's. */
  serverNow(): number {
    return this.#client.serverNow();
  }

  /** Calls `listener` whenever the client is replaced (sign-in, sign-out). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` with the connection state as it changes. */
  onState(listener: (state: ClientState) => void): () => void {
    this.#stateListeners.add(listener);
    listener(this.#client.state);
    return () => this.#stateListeners.delete(listener);
  }

  /** Asks the server for a session as `name`; throws with the server's reason. */
  async signIn(name: string): Promise<Me> {
    const res = await fetch('api/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
    const body = (await res.json()) as Partial<Me> & { message?: string };
    if (res.status !== 201 || typeof body.token !== 'string') throw new Error(body.message ?? 'could not sign in');
    this.#me = { token: body.token, user: body.user ?? '', name: body.name ?? name };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.#me));
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.#me));
    this.#replace();
    return this.#me;
  }

  /** Forgets the session on this browser. */
  signOut(): void {
    const token = this.#me?.token;
    this.#me = undefined;
    // This window forgets it (and stays signed out across reloads); new windows forget it only
    // if it is still the last session, not one another window chose since.
    sessionStorage.setItem(STORAGE_KEY, SIGNED_OUT);
    if (read(localStorage)?.token === token) localStorage.removeItem(STORAGE_KEY);
    this.#replace();
  }

  #replace(): void {
    this.#client.close();
    this.#client = this.#open();
    for (const listener of this.#listeners) listener();
  }

  #open(): ParleyClient {
    const me = this.#me;
    const client = new ParleyClient(new URL('ws', document.baseURI).href, me !== undefined ? { token: me.token } : {});
    const report = (): void => {
      if (client !== this.#client) return;
      for (const listener of this.#stateListeners) listener(client.state);
    };
    client.on('open', () => {
      report();
      // The server did not recognise the token (a new database, say): ask for a name again.
      if (client === this.#client && this.#me !== undefined && client.user !== this.#me.user) this.signOut();
    });
    client.on('close', report);
    client.on('reconnecting', report);
    client.on('error', () => undefined);
    return client;
  }
}
