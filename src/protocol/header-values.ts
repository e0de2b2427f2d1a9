/**
 * Parsers for the header values of the opening handshake: token lists (`Connection`, `Upgrade`,
 * `Sec-WebSocket-Protocol`) and the extension grammar of RFC 6455 §9.1. Each is one linear pass
 * over the input with no regular expressions and no backtracking, and results are arrays, never
 * plain objects, so names like `__proto__` are only strings.
 * @packageDocumentation
 */

/** One offered or accepted extension: its name and its parameters in order. */
export interface ExtensionOffer {
  /** Extension token, e.g. `permessage-deflate`. */
  name: string;
  /** Parameters in the order given; `true` for a parameter without a value. Duplicates are kept. */
  params: Array<[name: string, value: string | true]>;
}

/** tchar of RFC 7230 §3.2.6, as a lookup table over ASCII. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Whether `s` is a non-empty RFC 7230 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Splits a comma-separated list of tokens (RFC 7230 §7), trimming optional white space and
 * skipping empty elements.
 * @returns the tokens, or `undefined` when an element is not a token
 */
export function parseTokenList(value: string): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value.charCodeAt(i) === 0x2c) {
      let a = start;
      let b = i;
      while (a < b && isOws(value.charCodeAt(a))) a++;
      while (b > a && isOws(value.charCodeAt(b - 1))) b--;
      if (b > a) {
        const token = value.slice(a, b);
        if (!isToken(token)) return undefined;
        out.push(token);
      }
      start = i + 1;
    }
  }
  return out;
}

/** Whether a token list contains `token`, compared case-insensitively (RFC 6455 §4.2.1). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  // One pass with no substrings or arrays (it runs twice per handshake): every element must
  // still be a token, as in parseTokenList, or the whole list is invalid.
  let found = false;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) !== 0x2c) continue;
    let a = start;
    let b = i;
    while (a < b && isOws(value.charCodeAt(a))) a++;
    while (b > a && isOws(value.charCodeAt(b - 1))) b--;
    for (let j = a; j < b; j++) {
      const c = value.charCodeAt(j);
      if (c >= 128 || TCHAR[c] === 0) return false;
    }
    if (!found && b > a && b - a === token.length && equalsIgnoreAsciiCase(value, a, token)) found = true;
    start = i + 1;
  }
  return found;
}

/** Whether `value[at, at + token.length)` is `token`, ASCII letters compared without case. */
function equalsIgnoreAsciiCase(value: string, at: number, token: string): boolean {
  for (let k = 0; k < token.length; k++) {
    let x = value.charCodeAt(at + k);
    let y = token.charCodeAt(k);
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1):
 * `extension *( "," extension )`, `extension = token *( ";" token [ "=" ( token / quoted-string ) ] )`,
 * with optional white space around separators. A quoted value must still be a token once
 * unescaped (§9.1).
 * @returns the offers in order, or `undefined` when the value does not follow the grammar
 */
export function parseExtensions(value: string): ExtensionOffer[] | undefined {
  const out: ExtensionOffer[] = [];
  const n = value.length;
  let i = 0;
  const skipOws = (): void => {
    while (i < n && isOws(value.charCodeAt(i))) i++;
  };
  const readToken = (): string | undefined => {
    const start = i;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c >= 128 || TCHAR[c] === 0) break;
      i++;
    }
    return i > start ? value.slice(start, i) : undefined;
  };
  const readQuoted = (): string | undefined => {
    i++; // opening quote
    let text = '';
    let start = i;
    while (i < n) {
      const c = value.charCodeAt(i);
      if (c === 0x22) {
        text += value.slice(start, i);
        i++;
        return isToken(text) ? text : undefined;
      }
      if (c === 0x5c) {
        if (i + 1 >= n) return undefined;
        text += value.slice(start, i) + value[i + 1]!;
        i += 2;
        start = i;
        continue;
      }
      i++;
    }
    return undefined; // unclosed quote
  };

  for (;;) {
    skipOws();
    // Empty list elements are allowed by RFC 7230 §7; skip them.
    if (i < n && value.charCodeAt(i) === 0x2c) {
      i++;
      continue;
    }
    if (i >= n) break;
    const name = readToken();
    if (name === undefined) return undefined;
    const offer: ExtensionOffer = { name, params: [] };
    skipOws();
    while (i < n && value.charCodeAt(i) === 0x3b) {
      i++;
      skipOws();
      const key = readToken();
      if (key === undefined) return undefined;
      skipOws();
      let v: string | true = true;
      if (i < n && value.charCodeAt(i) === 0x3d) {
        i++;
        skipOws();
        const q = i < n && value.charCodeAt(i) === 0x22 ? readQuoted() : readToken();
        if (q === undefined) return undefined;
        v = q;
        skipOws();
      }
      offer.params.push([key, v]);
    }
    out.push(offer);
    if (i >= n) break;
    if (value.charCodeAt(i) !== 0x2c) return undefined;
    i++;
  }
  return out;
}

/** Formats extensions for a `Sec-WebSocket-Extensions` header. */
export function formatExtensions(list: readonly ExtensionOffer[]): string {
  return list
    .map((e) => [e.name, ...e.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join('; '))
    .join(', ');
}
