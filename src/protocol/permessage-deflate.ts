/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1), both roles, as pure functions over
 * {@link ExtensionOffer} values. The zlib codec lives in the Node layer.
 *
 * The server picks the first acceptable offer and declines the others; an offer with an unknown,
 * duplicated or invalid parameter is declined, never a reason to fail the handshake (§7.1). The
 * client fails the handshake on a response that breaks §7.1 (unknown, duplicated, invalid or
 * unrequested parameters), as §5 and §7 require.
 * @packageDocumentation
 */
import { HandshakeError } from './errors.js';
import { formatExtensions, type ExtensionOffer } from './header-values.js';

/** The extension token (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** Smallest and largest LZ77 window size, as a base-2 logarithm (RFC 7692 §7.1.2). */
export const MIN_WINDOW_BITS = 8;
/** @see MIN_WINDOW_BITS */
export const MAX_WINDOW_BITS = 15;

/**
 * What one side wants from the negotiation, in the shape of `ws`'s `perMessageDeflate` options.
 *
 * Server: `serverNoContextTakeover: true` always asks for it, `false` declines offers that demand
 * it, unset accepts what the client asks. `serverMaxWindowBits` caps the server's window (the
 * smaller of it and the client's request wins). `clientMaxWindowBits` as a number limits the
 * client's window and declines offers that cannot be limited; `false` never limits it.
 *
 * Client: each option adds its parameter to the offer; `clientMaxWindowBits` unset or `true` offers
 * `client_max_window_bits` without a value (the server may then limit the window), `false` leaves
 * it out.
 */
export interface DeflateNegotiationOptions {
  /** Ask for (or, on a server, impose) `server_no_context_takeover`. */
  serverNoContextTakeover?: boolean;
  /** Ask for (or, on a server, impose) `client_no_context_takeover`. */
  clientNoContextTakeover?: boolean;
  /** Largest server window, 8–15. */
  serverMaxWindowBits?: number;
  /** Largest client window, 8–15; `true`/unset: offered without a value; `false`: not offered/limited. */
  clientMaxWindowBits?: number | boolean;
}

/** The parameters both sides follow once permessage-deflate is agreed. */
export interface DeflateParameters {
  /** The server resets its compressor after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compressor after each message. */
  clientNoContextTakeover: boolean;
  /** Window bits of the server's compressor (and of the client's decompressor), 8–15. */
  serverMaxWindowBits: number;
  /** Window bits of the client's compressor (and of the server's decompressor), 8–15. */
  clientMaxWindowBits: number;
}

/** An agreed configuration: its parameters and the extension as it appears in the response. */
export interface DeflateAgreement {
  /** What each side's compressor and decompressor must do. */
  params: DeflateParameters;
  /** The accepted extension with its response parameters. */
  response: ExtensionOffer;
  /** `response` formatted for the `Sec-WebSocket-Extensions` header. */
  header: string;
}

/** The parameters of one offer or response, checked against RFC 7692 §7.1. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: present without a value (allowed in an offer only). */
  clientMaxWindowBits: number | true | undefined;
}

/** A window-bits value: 1*DIGIT naming an integer from 8 to 15 (RFC 7692 §7.1.2.1, §7.1.2.2). */
function windowBits(value: string): number | undefined {
  if (value.length === 0 || value.length > 3) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const n = Number(value);
  return n >= MIN_WINDOW_BITS && n <= MAX_WINDOW_BITS ? n : undefined;
}

/**
 * Checks the parameters of an offer (`inResponse` false) or a response.
 * @returns the values, or a description of what is wrong
 */
function parseParams(ext: ExtensionOffer, inResponse: boolean): ParsedParams | string {
  const out: ParsedParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };
  const seen = new Set<string>();
  for (const [name, value] of ext.params) {
    // §7.1: an offer or response with the same parameter twice is declined / fails.
    if (seen.has(name)) return `duplicated parameter ${name}`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        // §7.1.1.1, §7.1.1.2: these have no value.
        if (value !== true) return `${name} takes no value`;
        if (name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        // §7.1.2.1: always with a value.
        const bits = value === true ? undefined : windowBits(value);
        if (bits === undefined) return `invalid ${name}`;
        out.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        // §7.1.2.2: optional value in an offer; a response must carry one.
        if (value === true && !inResponse) {
          out.clientMaxWindowBits = true;
          break;
        }
        const bits = value === true ? undefined : windowBits(value);
        if (bits === undefined) return `invalid ${name}`;
        out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${name}`;
    }
  }
  return out;
}

/**
 * Validates negotiation options (configuration errors throw at construction).
 * @throws TypeError or RangeError naming the bad option
 */
export function validateDeflateOptions(options: DeflateNegotiationOptions): void {
  for (const key of ['serverNoContextTakeover', 'clientNoContextTakeover'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`perMessageDeflate.${key} must be a boolean`);
  }
  const check = (key: 'serverMaxWindowBits' | 'clientMaxWindowBits', allowBoolean: boolean): void => {
    const v = options[key];
    if (v === undefined || (allowBoolean && typeof v === 'boolean')) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_WINDOW_BITS || v > MAX_WINDOW_BITS) {
      throw new RangeError(`perMessageDeflate.${key} must be an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS}${allowBoolean ? ' or a boolean' : ''}, got ${String(v)}`);
    }
  };
  check('serverMaxWindowBits', false);
  check('clientMaxWindowBits', true);
}

function agreement(params: DeflateParameters, response: ExtensionOffer): DeflateAgreement {
  return { params, response, header: formatExtensions([response]) };
}

/**
 * Server side (RFC 7692 §7.1): accepts the first acceptable permessage-deflate offer among
 * `offers` (other extensions are ignored).
 * @returns the agreement, or `undefined` when every offer is declined (the connection then opens
 * without compression)
 */
export function negotiateDeflateAsServer(offers: readonly ExtensionOffer[], options: DeflateNegotiationOptions = {}): DeflateAgreement | undefined {
  const cfgServerBits = options.serverMaxWindowBits;
  const cfgClientBits = options.clientMaxWindowBits;
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer, false);
    if (typeof p === 'string') continue; // §7.1: decline this offer, try the next
    if (options.serverNoContextTakeover === false && p.serverNoContextTakeover) continue;
    // §7.1.2.2: a server may limit the client's window only if the offer said it can.
    if (typeof cfgClientBits === 'number' && p.clientMaxWindowBits === undefined) continue;

    const params: DeflateParameters = {
      serverNoContextTakeover: p.serverNoContextTakeover || options.serverNoContextTakeover === true,
      clientNoContextTakeover: options.clientNoContextTakeover === true || (p.clientNoContextTakeover && options.clientNoContextTakeover !== false),
      serverMaxWindowBits: MAX_WINDOW_BITS,
      clientMaxWindowBits: MAX_WINDOW_BITS,
    };
    const response: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params: [] };
    if (params.serverNoContextTakeover) response.params.push(['server_no_context_takeover', true]);
    if (params.clientNoContextTakeover) response.params.push(['client_no_context_takeover', true]);
    // §7.1.2.1: the response carries a value no larger than the offer's; the server may also
    // include it unasked.
    if (p.serverMaxWindowBits !== undefined || cfgServerBits !== undefined) {
      params.serverMaxWindowBits = Math.min(p.serverMaxWindowBits ?? MAX_WINDOW_BITS, cfgServerBits ?? MAX_WINDOW_BITS);
      response.params.push(['server_max_window_bits', String(params.serverMaxWindowBits)]);
    }
    // §7.1.2.2: a value in the offer is a hint the server may take up to save memory.
    if (typeof cfgClientBits === 'number') {
      params.clientMaxWindowBits = p.clientMaxWindowBits === true || p.clientMaxWindowBits === undefined ? cfgClientBits : Math.min(cfgClientBits, p.clientMaxWindowBits);
      response.params.push(['client_max_window_bits', String(params.clientMaxWindowBits)]);
    } else if (cfgClientBits !== false && typeof p.clientMaxWindowBits === 'number') {
      params.clientMaxWindowBits = p.clientMaxWindowBits;
      response.params.push(['client_max_window_bits', String(params.clientMaxWindowBits)]);
    }
    return agreement(params, response);
  }
  return undefined;
}

/** Client side: the offer to send in `Sec-WebSocket-Extensions` (RFC 7692 §7.1). */
export function deflateOffer(options: DeflateNegotiationOptions = {}): ExtensionOffer {
  const offer: ExtensionOffer = { name: PERMESSAGE_DEFLATE, params: [] };
  if (options.serverNoContextTakeover === true) offer.params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover === true) offer.params.push(['client_no_context_takeover', true]);
  if (typeof options.serverMaxWindowBits === 'number') offer.params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  if (typeof options.clientMaxWindowBits === 'number') offer.params.push(['client_max_window_bits', String(options.clientMaxWindowBits)]);
  else if (options.clientMaxWindowBits !== false) offer.params.push(['client_max_window_bits', true]);
  return offer;
}

/**
 * Client side: checks the server's response to {@link deflateOffer}`(options)` (RFC 7692 §5, §7).
 * @param extensions - the parsed `Sec-WebSocket-Extensions` of the 101 response
 * @returns the agreement, or `undefined` when the server declined (no extension in the response)
 * @throws HandshakeError when the response must fail the connection: an extension that was not
 * offered, more than one, or parameters that are unknown, duplicated, invalid or not requested
 */
export function acceptDeflateResponse(extensions: readonly ExtensionOffer[], options: DeflateNegotiationOptions = {}, status = 101): DeflateAgreement | undefined {
  if (extensions.length === 0) return undefined;
  // The messages are `ws`'s, word for word: applications match on them. What exactly was wrong
  // is named in the comments beside each check.
  const fail = (_why: string): never => {
    throw new HandshakeError('Invalid Sec-WebSocket-Extensions header', status);
  };
  if (extensions.some((e) => e.name !== PERMESSAGE_DEFLATE)) {
    throw new HandshakeError('Server indicated an extension that was not requested', status);
  }
  if (extensions.length > 1) fail('more than one extension accepted');
  const ext = extensions[0]!;
  const p = parseParams(ext, true);
  if (typeof p === 'string') return fail(p);

  // §7.1.1.1: a server accepts server_no_context_takeover by echoing it.
  if (options.serverNoContextTakeover === true && !p.serverNoContextTakeover) fail('server_no_context_takeover was requested but not accepted');
  // §7.1.2.1: the server answers a requested limit with the same or a smaller value.
  const askedServerBits = options.serverMaxWindowBits;
  if (askedServerBits !== undefined) {
    if (p.serverMaxWindowBits === undefined) fail('server_max_window_bits was requested but not accepted');
    else if (p.serverMaxWindowBits > askedServerBits) fail('server_max_window_bits above the requested value');
  }
  // §7.1.2.2: client_max_window_bits only when offered, and no larger than an offered value.
  const offeredClientBits = options.clientMaxWindowBits;
  let clientBits = typeof offeredClientBits === 'number' ? offeredClientBits : MAX_WINDOW_BITS;
  if (p.clientMaxWindowBits !== undefined) {
    if (offeredClientBits === false) fail('client_max_window_bits was not offered');
    const bits = p.clientMaxWindowBits as number;
    if (typeof offeredClientBits === 'number' && bits > offeredClientBits) fail('client_max_window_bits above the offered value');
    clientBits = bits;
  }
  return agreement(
    {
      serverNoContextTakeover: p.serverNoContextTakeover,
      // §7.1.1.2: the server may always ask the client not to take over context.
      clientNoContextTakeover: p.clientNoContextTakeover || options.clientNoContextTakeover === true,
      serverMaxWindowBits: p.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: clientBits,
    },
    ext,
  );
}
