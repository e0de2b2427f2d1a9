/**
 * permessage-deflate negotiation (RFC 7692 §5, §7.1), sans-I/O: the server's choice among offers,
 * declining bad offers, the client's offer, and the client's check of the server's response.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptDeflateResponse,
  deflateOffer,
  negotiateDeflateAsServer,
  validateDeflateOptions,
  type DeflateNegotiationOptions,
  type DeflateParameters,
} from '../../src/protocol/permessage-deflate.js';
import { formatExtensions, parseExtensions, type ExtensionOffer } from '../../src/protocol/header-values.js';
import { HandshakeError } from '../../src/protocol/errors.js';
import { OP, buildFrame, concat, feed, type Event } from './helpers.js';

/** Parses a header value, failing the test when it does not follow RFC 6455 §9.1. */
function ext(header: string): ExtensionOffer[] {
  const list = parseExtensions(header);
  assert.ok(list !== undefined, `parses: ${header}`);
  return list;
}

/** The server's answer to an offer header: the response header, or undefined when declined. */
function serverAnswer(offer: string, options?: DeflateNegotiationOptions): string | undefined {
  return negotiateDeflateAsServer(ext(offer), options)?.header;
}

function params(p: Partial<DeflateParameters> = {}): DeflateParameters {
  return { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...p };
}

void describe('RFC 7692 §7.1 server: accepting offers', () => {
  // [offer, server options, expected response header, expected parameters]
  const matrix: Array<[string, DeflateNegotiationOptions, string, Partial<DeflateParameters>]> = [
    ['permessage-deflate', {}, 'permessage-deflate', {}],
    ['permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    ['permessage-deflate; client_max_window_bits=10', {}, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; server_no_context_takeover', {}, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', {}, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    ['permessage-deflate; server_max_window_bits=9', {}, 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    ['permessage-deflate; server_max_window_bits=8', {}, 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_max_window_bits="12"', {}, 'permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }],
    // Server options: imposed without being asked (§7.1.1.1, §7.1.1.2, §7.1.2.1).
    ['permessage-deflate', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    ['permessage-deflate', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    // The smaller of the client's request and the server's limit wins.
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    // client_max_window_bits: limited only when the offer allows it (§7.1.2.2).
    ['permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=11', { clientMaxWindowBits: 11 }],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 11 }, 'permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: false }, 'permessage-deflate', {}],
    // Everything at once (the Autobahn 13.5/13.6 offers).
    [
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9',
      {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9 },
    ],
    [
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=15',
      { clientMaxWindowBits: 12, serverMaxWindowBits: 13 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=13; client_max_window_bits=12',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 13, clientMaxWindowBits: 12 },
    ],
  ];
  for (const [offer, options, header, expected] of matrix) {
    void test(`${offer} with ${JSON.stringify(options)} → ${header}`, () => {
      const a = negotiateDeflateAsServer(ext(offer), options);
      assert.ok(a !== undefined, 'accepted');
      assert.equal(a.header, header);
      assert.deepEqual(a.params, params(expected));
      assert.deepEqual(ext(a.header), [a.response], 'the header is the response, formatted');
    });
  }

  void test('each window size from 8 to 15 is accepted in both parameters', () => {
    for (let bits = 8; bits <= 15; bits++) {
      const a = negotiateDeflateAsServer(ext(`permessage-deflate; server_max_window_bits=${bits}; client_max_window_bits=${bits}`));
      assert.deepEqual(a?.params, params({ serverMaxWindowBits: bits, clientMaxWindowBits: bits }), `bits ${bits}`);
    }
  });

  void test('other extensions are ignored; no permessage-deflate offer → no agreement', () => {
    assert.equal(serverAnswer('x-webkit-deflate-frame, foo; bar=1'), undefined);
    assert.equal(negotiateDeflateAsServer([]), undefined);
    assert.equal(serverAnswer('x-webkit-deflate-frame, permessage-deflate'), 'permessage-deflate');
  });
});

void describe('RFC 7692 §7.1 server: declining offers cleanly', () => {
  const invalid = [
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; client_max_window_bits=abc',
    'permessage-deflate; client_max_window_bits=-9',
    'permessage-deflate; client_max_window_bits=9.0',
    'permessage-deflate; client_max_window_bits=0x9',
    'permessage-deflate; client_max_window_bits=0009',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=abc',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover=true',
    'permessage-deflate; client_max_window_bits; client_max_window_bits',
    'permessage-deflate; client_max_window_bits=10; client_max_window_bits=10',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; server_max_window_bits=10; server_max_window_bits=11',
    'permessage-deflate; unknown_parameter',
    'permessage-deflate; __proto__=1',
  ];
  for (const offer of invalid) {
    void test(`declined: ${offer}`, () => {
      assert.equal(serverAnswer(offer), undefined);
    });
  }

  void test('a declined offer is skipped and the next acceptable one is taken (§7.1, multiple offers)', () => {
    assert.equal(
      serverAnswer('permessage-deflate; client_max_window_bits=16, permessage-deflate; server_max_window_bits=10, permessage-deflate'),
      'permessage-deflate; server_max_window_bits=10',
    );
    // Autobahn 13.7: three offers, the first acceptable one wins.
    const a = negotiateDeflateAsServer(ext(
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9, ' +
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, ' +
      'permessage-deflate; client_no_context_takeover; client_max_window_bits',
    ));
    assert.equal(a?.params.serverMaxWindowBits, 9);
  });

  void test('serverNoContextTakeover: false declines offers that demand it', () => {
    assert.equal(serverAnswer('permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: false }), undefined);
    assert.equal(
      serverAnswer('permessage-deflate; server_no_context_takeover, permessage-deflate', { serverNoContextTakeover: false }),
      'permessage-deflate',
    );
  });

  void test('a numeric clientMaxWindowBits declines offers without client_max_window_bits', () => {
    assert.equal(serverAnswer('permessage-deflate', { clientMaxWindowBits: 10 }), undefined);
    assert.equal(
      serverAnswer('permessage-deflate, permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }),
      'permessage-deflate; client_max_window_bits=10',
    );
  });
});

void describe('RFC 7692 §7.1 client: the offer', () => {
  const cases: Array<[DeflateNegotiationOptions, string]> = [
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: true }, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_max_window_bits'],
    [{ clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover; client_max_window_bits'],
    [{ serverMaxWindowBits: 9 }, 'permessage-deflate; server_max_window_bits=9; client_max_window_bits'],
    [
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8',
    ],
  ];
  for (const [options, header] of cases) {
    void test(`${JSON.stringify(options)} → ${header}`, () => {
      assert.equal(formatExtensions([deflateOffer(options)]), header);
    });
  }

  void test('every client offer is accepted by the server as it is (round trip)', () => {
    for (const [options] of cases) {
      const offer = formatExtensions([deflateOffer(options)]);
      const a = negotiateDeflateAsServer(ext(offer));
      assert.ok(a !== undefined, offer);
      const back = acceptDeflateResponse(ext(a.header), options);
      assert.deepEqual(back?.params, a.params, `both sides agree for ${offer}`);
    }
  });
});

void describe('RFC 7692 §5, §7 client: checking the response', () => {
  function assertFails(response: string, options: DeflateNegotiationOptions = {}): void {
    assert.throws(() => acceptDeflateResponse(ext(response), options), (e: unknown) => e instanceof HandshakeError && e.status === 101, response);
  }

  void test('no extension in the response: the server declined, connect without compression', () => {
    assert.equal(acceptDeflateResponse([], {}), undefined);
  });

  void test('valid responses give the parameters to follow', () => {
    assert.deepEqual(acceptDeflateResponse(ext('permessage-deflate'))?.params, params());
    assert.deepEqual(
      acceptDeflateResponse(ext('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10'))?.params,
      params({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 10 }),
    );
    // The server may ask for client_no_context_takeover and server_max_window_bits unasked.
    assert.deepEqual(acceptDeflateResponse(ext('permessage-deflate; client_no_context_takeover'), { clientMaxWindowBits: false })?.params, params({ clientNoContextTakeover: true }));
    // Our own hints bind us: an offered client_max_window_bits=10 or client_no_context_takeover holds.
    assert.deepEqual(acceptDeflateResponse(ext('permessage-deflate'), { clientMaxWindowBits: 10, clientNoContextTakeover: true })?.params, params({ clientMaxWindowBits: 10, clientNoContextTakeover: true }));
    assert.deepEqual(acceptDeflateResponse(ext('permessage-deflate; client_max_window_bits=8'), { clientMaxWindowBits: 10 })?.params, params({ clientMaxWindowBits: 8 }));
    assert.deepEqual(acceptDeflateResponse(ext('permessage-deflate; server_max_window_bits=8'), { serverMaxWindowBits: 10 })?.params, params({ serverMaxWindowBits: 8 }));
  });

  void test('invalid, duplicated, unknown or unrequested parameters fail the handshake', () => {
    assertFails('permessage-deflate; client_max_window_bits'); // a response must give a value
    assertFails('permessage-deflate; client_max_window_bits=7');
    assertFails('permessage-deflate; client_max_window_bits=16');
    assertFails('permessage-deflate; client_max_window_bits=abc');
    assertFails('permessage-deflate; server_max_window_bits');
    assertFails('permessage-deflate; server_max_window_bits=16');
    assertFails('permessage-deflate; server_no_context_takeover=1');
    assertFails('permessage-deflate; server_no_context_takeover; server_no_context_takeover');
    assertFails('permessage-deflate; client_max_window_bits=10; client_max_window_bits=10');
    assertFails('permessage-deflate; foo');
    assertFails('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: false });
    assertFails('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 });
    assertFails('permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 });
    assertFails('permessage-deflate', { serverMaxWindowBits: 10 });
    assertFails('permessage-deflate', { serverNoContextTakeover: true });
  });

  void test('an extension that was not offered, or more than one, fails the handshake', () => {
    assertFails('x-webkit-deflate-frame');
    assertFails('permessage-deflate, permessage-deflate');
    assertFails('permessage-deflate, x-foo');
  });
});

void describe('configuration checks', () => {
  void test('window bits outside 8–15 and non-booleans are refused at construction', () => {
    for (const bad of [7, 16, 9.5, Number.NaN]) {
      assert.throws(() => validateDeflateOptions({ serverMaxWindowBits: bad }), RangeError, String(bad));
      assert.throws(() => validateDeflateOptions({ clientMaxWindowBits: bad }), RangeError, String(bad));
    }
    assert.throws(() => validateDeflateOptions({ serverMaxWindowBits: true as unknown as number }), RangeError);
    assert.throws(() => validateDeflateOptions({ serverNoContextTakeover: 'yes' as unknown as boolean }), TypeError);
    validateDeflateOptions({ serverMaxWindowBits: 8, clientMaxWindowBits: true });
    validateDeflateOptions({ clientMaxWindowBits: false });
  });
});

void describe('Receiver: the wire limit of a compressed message (RFC 7692 with maxPayload)', () => {
  const max = 64 * 1024;
  const options = { expectMasked: false, maxPayload: max, allowRsv1: true };
  const kinds = (events: Event[]): string[] => events.map((e) => (e.kind === 'error' ? e.code : e.kind));

  void test('an uncompressed message over maxPayload is refused at its header', () => {
    assert.deepEqual(kinds(feed(buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(max + 1) }), options)), ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });

  void test('a compressed one may be a little larger on the wire (stored blocks), not much', () => {
    const slack = max + Math.ceil(max / 64) + 1024;
    const ok = feed(buildFrame({ opcode: OP.BINARY, rsv1: true, payload: new Uint8Array(slack) }), options);
    assert.deepEqual(kinds(ok), ['message']);
    assert.equal(ok[0]?.kind === 'message' && ok[0].compressed, true);
    assert.deepEqual(kinds(feed(buildFrame({ opcode: OP.BINARY, rsv1: true, payload: new Uint8Array(slack + 1) }), options)), ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    // Across fragments too: the continuation inherits the first frame's RSV1.
    const first = buildFrame({ opcode: OP.TEXT, rsv1: true, fin: false, payload: new Uint8Array(max) });
    const rest = buildFrame({ opcode: OP.CONT, payload: new Uint8Array(slack - max + 1) });
    assert.deepEqual(kinds(feed(concat(first, rest), options)), ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
  });
});
