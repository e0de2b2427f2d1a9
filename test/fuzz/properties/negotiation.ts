/**
 * Fuzzing the permessage-deflate negotiation (src/protocol/permessage-deflate.ts). Server side:
 * random offers (hostile parameter names, duplicates, out-of-range and malformed values, other
 * extensions) and random valid server options; the result is never a throw, and is either a
 * decline exactly when no offer is acceptable by RFC 7692 §7.1, or an agreement on the first
 * acceptable offer that (1) formats to a header that parses back to itself, (2) the client that
 * sent that offer accepts with `acceptDeflateResponse`, and (3) both sides then hold compatible
 * parameters (each inflater can follow the other side's compressor), within 8–15 bits. Client side: random responses give a valid agreement or a
 * HandshakeError, nothing else.
 */
import fc from 'fast-check';
import {
  acceptDeflateResponse,
  negotiateDeflateAsServer,
  type DeflateAgreement,
  type DeflateNegotiationOptions,
} from '../../../src/protocol/permessage-deflate.js';
import { parseExtensions, type ExtensionOffer } from '../../../src/protocol/header-values.js';
import { HandshakeError } from '../../../src/protocol/errors.js';
import { defineProperty, type FuzzProperty } from '../property.js';

const NAMES = ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'];
const paramName = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES), weight: 8 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', 'x', 'SERVER_NO_CONTEXT_TAKEOVER'), weight: 1 },
);
const paramValue = fc.oneof(
  { arbitrary: fc.constant(true as const), weight: 4 },
  { arbitrary: fc.integer({ min: 8, max: 15 }).map(String), weight: 4 },
  { arbitrary: fc.constantFrom('7', '16', '0', '08', '015', 'abc', '', '1e1', ' 9', '9 ', '-9', '+9', '9.0', '0x9', '00000009'), weight: 2 },
);
const offerArb: fc.Arbitrary<ExtensionOffer> = fc.record({
  name: fc.oneof({ arbitrary: fc.constant('permessage-deflate'), weight: 6 }, { arbitrary: fc.constantFrom('x-webkit-deflate-frame', 'PERMESSAGE-DEFLATE', '__proto__', 'deflate'), weight: 1 }),
  params: fc.array(fc.tuple(paramName, paramValue), { maxLength: 5 }),
});
const optionsArb: fc.Arbitrary<DeflateNegotiationOptions> = fc.record(
  {
    serverNoContextTakeover: fc.boolean(),
    clientNoContextTakeover: fc.boolean(),
    serverMaxWindowBits: fc.integer({ min: 8, max: 15 }),
    clientMaxWindowBits: fc.oneof(fc.integer({ min: 8, max: 15 }), fc.boolean()),
  },
  { requiredKeys: [] },
);

/** RFC 7692 §7.1.2: 1*DIGIT naming 8–15, no leading zero needed but digits only. */
function refBits(v: string | true): number | undefined {
  if (v === true || !/^[0-9]{1,3}$/.test(v)) return undefined;
  const n = parseInt(v, 10);
  return n >= 8 && n <= 15 ? n : undefined;
}

interface RefOffer {
  snct: boolean;
  cnct: boolean;
  smwb: number | undefined;
  cmwb: number | true | undefined;
}

/** The offer's parameters when it is a valid permessage-deflate offer (§7.1), else undefined. */
function refParse(o: ExtensionOffer): RefOffer | undefined {
  if (o.name !== 'permessage-deflate') return undefined;
  const seen: string[] = [];
  const r: RefOffer = { snct: false, cnct: false, smwb: undefined, cmwb: undefined };
  for (const [k, v] of o.params) {
    if (seen.includes(k)) return undefined;
    seen.push(k);
    if (k === 'server_no_context_takeover') {
      if (v !== true) return undefined;
      r.snct = true;
    } else if (k === 'client_no_context_takeover') {
      if (v !== true) return undefined;
      r.cnct = true;
    } else if (k === 'server_max_window_bits') {
      const b = refBits(v);
      if (b === undefined) return undefined;
      r.smwb = b;
    } else if (k === 'client_max_window_bits') {
      if (v === true) r.cmwb = true;
      else {
        const b = refBits(v);
        if (b === undefined) return undefined;
        r.cmwb = b;
      }
    } else return undefined;
  }
  return r;
}

/** Whether a server with `opts` can accept this offer (docs/permessage-deflate.md option table). */
function refAcceptable(r: RefOffer, opts: DeflateNegotiationOptions): boolean {
  if (opts.serverNoContextTakeover === false && r.snct) return false;
  if (typeof opts.clientMaxWindowBits === 'number' && r.cmwb === undefined) return false;
  return true;
}

/** The client options that would have produced this offer with `deflateOffer`. */
function clientOptionsFor(r: RefOffer): DeflateNegotiationOptions {
  const o: DeflateNegotiationOptions = {};
  if (r.snct) o.serverNoContextTakeover = true;
  if (r.cnct) o.clientNoContextTakeover = true;
  if (r.smwb !== undefined) o.serverMaxWindowBits = r.smwb;
  o.clientMaxWindowBits = r.cmwb === undefined ? false : r.cmwb;
  return o;
}

function checkServer(offers: ExtensionOffer[], opts: DeflateNegotiationOptions): void {
  let result: DeflateAgreement | undefined;
  try {
    result = negotiateDeflateAsServer(offers, opts);
  } catch (error) {
    throw new Error(`negotiateDeflateAsServer threw ${String(error)}`);
  }
  const firstAcceptable = offers.findIndex((o) => {
    const r = refParse(o);
    return r !== undefined && refAcceptable(r, opts);
  });
  const ctx = `offers ${JSON.stringify(offers)}, options ${JSON.stringify(opts)}`;
  if (firstAcceptable < 0) {
    if (result !== undefined) throw new Error(`agreed ${result.header} though no offer is acceptable: ${ctx}`);
    return;
  }
  if (result === undefined) throw new Error(`declined though offer ${firstAcceptable} is acceptable: ${ctx}`);
  const r = refParse(offers[firstAcceptable]!)!;
  const p = result.params;
  for (const bits of [p.serverMaxWindowBits, p.clientMaxWindowBits]) {
    if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new Error(`window bits ${bits} out of 8–15: ${ctx}`);
  }
  // §7.1.1.1: server_no_context_takeover as asked, or imposed.
  if (p.serverNoContextTakeover !== (r.snct || opts.serverNoContextTakeover === true)) throw new Error(`serverNoContextTakeover ${p.serverNoContextTakeover}: ${ctx}`);
  // §7.1.2.1: the server's window is at most what the client asked for and what the server allows.
  if (p.serverMaxWindowBits > (r.smwb ?? 15) || p.serverMaxWindowBits > (opts.serverMaxWindowBits ?? 15)) throw new Error(`serverMaxWindowBits ${p.serverMaxWindowBits}: ${ctx}`);
  // §7.1.2.2: the client's window is limited only when the client said it can be.
  if (r.cmwb === undefined && p.clientMaxWindowBits !== 15) throw new Error(`clientMaxWindowBits ${p.clientMaxWindowBits} though the offer cannot be limited: ${ctx}`);
  if (typeof opts.clientMaxWindowBits === 'number' && p.clientMaxWindowBits > opts.clientMaxWindowBits) throw new Error(`clientMaxWindowBits ${p.clientMaxWindowBits} above the server's ${opts.clientMaxWindowBits}: ${ctx}`);

  // The header parses back to the response.
  const parsed = parseExtensions(result.header);
  if (parsed === undefined || JSON.stringify(parsed) !== JSON.stringify([result.response])) throw new Error(`header ${result.header} does not parse back to ${JSON.stringify(result.response)}`);
  // The client that sent this offer accepts the response, and both sides agree.
  let client: DeflateAgreement | undefined;
  try {
    client = acceptDeflateResponse(parsed, clientOptionsFor(r));
  } catch (error) {
    throw new Error(`the client that offered ${JSON.stringify(offers[firstAcceptable])} refuses ${result.header}: ${String(error)}`);
  }
  // Both sides must be able to talk: whatever one side's compressor may do, the other side's
  // inflater must follow (a side may reset more often than agreed; it may not keep history the
  // other side drops, nor use a larger window than the other side inflates with).
  const c = client?.params;
  if (c === undefined) throw new Error(`the client declined ${result.header}`);
  const clash: string[] = [];
  if (c.serverNoContextTakeover && !p.serverNoContextTakeover) clash.push('the client drops server context the server keeps using');
  if (p.clientNoContextTakeover && !c.clientNoContextTakeover) clash.push('the server drops client context the client keeps using');
  if (p.serverMaxWindowBits > c.serverMaxWindowBits) clash.push('the server compresses with a larger window than the client inflates with');
  if (c.clientMaxWindowBits > p.clientMaxWindowBits) clash.push('the client compresses with a larger window than the server inflates with');
  if (clash.length > 0) throw new Error(`${clash.join('; ')}: server ${JSON.stringify(p)}, client ${JSON.stringify(c)}, header ${result.header}, ${ctx}`);
}

function checkClient(response: ExtensionOffer[], opts: DeflateNegotiationOptions): void {
  let result: DeflateAgreement | undefined;
  try {
    result = acceptDeflateResponse(response, opts);
  } catch (error) {
    if (error instanceof HandshakeError) return;
    throw new Error(`acceptDeflateResponse threw a non-HandshakeError: ${String(error)}`);
  }
  if (result === undefined) {
    if (response.length !== 0) throw new Error(`declined a non-empty response ${JSON.stringify(response)}`);
    return;
  }
  const p = result.params;
  for (const bits of [p.serverMaxWindowBits, p.clientMaxWindowBits]) {
    if (!Number.isInteger(bits) || bits < 8 || bits > 15) throw new Error(`window bits ${bits} out of 8–15 for ${JSON.stringify(response)}`);
  }
  const r = refParse(response[0]!);
  if (response.length !== 1 || r === undefined) throw new Error(`accepted an invalid response ${JSON.stringify(response)}`);
  if (r.cmwb === true) throw new Error(`accepted client_max_window_bits without a value in a response: ${JSON.stringify(response)}`);
  if (opts.clientMaxWindowBits === false && r.cmwb !== undefined) throw new Error(`accepted an unrequested client_max_window_bits: ${JSON.stringify(response)}`);
}

export const negotiationProperties: FuzzProperty[] = [
  defineProperty(
    'negotiation/server',
    'random offers × server options: never throws; declines iff no offer is acceptable (§7.1); agreements round-trip through the header, and the offering client accepts them with compatible parameters',
    4000,
    () => fc.property(fc.array(offerArb, { maxLength: 4 }), optionsArb, checkServer),
  ),
  defineProperty(
    'negotiation/client',
    'random responses × client options: a valid agreement (8–15 bits) or a HandshakeError, nothing else',
    4000,
    () => fc.property(fc.array(offerArb, { maxLength: 3 }), optionsArb, checkClient),
  ),
];
