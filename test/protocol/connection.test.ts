import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Action,
  ConnectionFlag,
  INITIAL_STATE,
  ReadyState,
  actionsOf,
  closeCalled,
  closeEventCode,
  closeFrameReceived,
  closeFrameWritten,
  closeReplyCode,
  closeTimerFired,
  continuesMessage,
  controlCalled,
  dataFrameSent,
  errorOccurred,
  handlerFailed,
  handshakeAbortReported,
  handshakeDone,
  handshakeFailed,
  readyStateOf,
  receiveFailed,
  sendCalled,
  sendFailed,
  stateOf,
  terminateCalled,
  transportClosed,
  transportEnded,
  transportErrored,
  wasClean,
  wholeMessageCalled,
  type Step,
} from '../../src/protocol/connection.js';
import { Receiver, type ReceiverHandler } from '../../src/protocol/receiver.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import { OP, buildFrame, bytes, concat } from './helpers.js';

const { CONNECTING, OPEN, CLOSING, CLOSED } = ReadyState;
const A = Action;

/** Names of the action bits, so a failing assertion reads as a list. */
function names(actions: number): string[] {
  return Object.entries(Action).filter(([, bit]) => (actions & bit) !== 0).map(([name]) => name);
}

/** Applies a transition: asserts its actions and returns the next state. */
function expectStep(s: Step, ready: number, actions: number[]): number {
  assert.deepEqual(names(actionsOf(s)), names(actions.reduce((a, b) => a | b, 0)));
  assert.equal(readyStateOf(stateOf(s)), ready, 'ready state');
  return stateOf(s);
}

const open = (): number => stateOf(handshakeDone(INITIAL_STATE));

/**
 * A connection driven the way the Node layer drives it, on byte arrays: frames in through the
 * real receiver, transitions applied, actions carried out into `out` (close frames written with
 * the tests' own encoder) and `log`.
 */
class Peer implements ReceiverHandler {
  state = open();
  peerCode = 1005;
  peerReason: Uint8Array = new Uint8Array(0);
  readonly out: Uint8Array[] = [];
  readonly log: string[] = [];
  readonly messages: string[] = [];
  readonly rx: Receiver;
  /** Code and reason of the close frame the next SEND_CLOSE writes. */
  #closeCode: number | undefined;
  #closeReason: Uint8Array = new Uint8Array(0);

  constructor(isServer = false) {
    this.rx = new Receiver(this, { expectMasked: isServer });
  }

  apply(s: Step): void {
    this.state = stateOf(s);
    const actions = actionsOf(s);
    if ((actions & A.SEND_CLOSE) !== 0) {
      const code = this.#closeCode;
      const payload = code === undefined ? new Uint8Array(0) : concat(Uint8Array.of(code >> 8, code & 0xff), this.#closeReason);
      this.out.push(buildFrame({ opcode: OP.CLOSE, payload }));
      this.log.push(`send-close ${code ?? '-'}`);
      this.apply(closeFrameWritten(this.state)); // the transport took it at once
    }
    for (const name of ['START_TIMER', 'END_TRANSPORT', 'DESTROY', 'CLEAR_TIMER', 'EMIT_ERROR', 'REFUSE', 'WAIT', 'RELEASE_WAITING'] as const) {
      if ((actions & A[name]) !== 0) this.log.push(name);
    }
    if ((actions & A.EMIT_CLOSE) !== 0) this.log.push(`close ${closeEventCode(this.state, this.peerCode)} clean=${wasClean(this.state)}`);
  }

  close(code?: number, reason = ''): void {
    this.#closeCode = code;
    this.#closeReason = bytes(reason);
    this.apply(closeCalled(this.state));
  }

  send(text: string, fin = true): void {
    const s = sendCalled(this.state, fin);
    if ((actionsOf(s) & A.REFUSE) !== 0) {
      this.log.push('REFUSE');
      return;
    }
    this.state = stateOf(s);
    const opcode = continuesMessage(this.state) ? OP.CONT : OP.TEXT;
    this.out.push(buildFrame({ opcode, payload: text, fin }));
    this.state = stateOf(dataFrameSent(this.state, fin));
  }

  push(data: Uint8Array): void {
    this.rx.push(data);
  }

  onMessage(data: Uint8Array): void {
    this.messages.push(new TextDecoder().decode(data));
  }
  onPing(): void {}
  onPong(): void {}
  onClose(code: number, reason: Uint8Array): void {
    this.peerCode = code;
    this.peerReason = reason.slice();
    this.#closeCode = closeReplyCode(code);
    this.#closeReason = code === 1005 ? new Uint8Array(0) : this.peerReason;
    this.apply(closeFrameReceived(this.state));
  }
  onError(error: ProtocolError): void {
    this.#closeCode = error.closeCode;
    this.#closeReason = new Uint8Array(0);
    this.apply(receiveFailed(this.state));
  }
}

/** A masked close frame from a client, as a server receives it. */
function clientClose(payload: Uint8Array | number[]): Uint8Array {
  return buildFrame({ opcode: OP.CLOSE, payload: Uint8Array.from(payload), mask: true });
}

void describe('connection state machine: opening', () => {
  void test('starts CONNECTING with nothing sent or received', () => {
    assert.equal(readyStateOf(INITIAL_STATE), CONNECTING);
    assert.equal(wasClean(INITIAL_STATE), false);
  });

  void test('handshake done: OPEN, no actions', () => {
    expectStep(handshakeDone(INITIAL_STATE), OPEN, []);
  });

  void test('a failed handshake aborts once, then reports error (while CLOSING) and close (1006)', () => {
    let s = expectStep(handshakeFailed(INITIAL_STATE), CLOSING, [A.ABORT_HANDSHAKE]);
    expectStep(handshakeFailed(s), CLOSING, []); // a second report of the same failure
    s = expectStep(errorOccurred(s), CLOSING, [A.EMIT_ERROR]);
    const done = expectStep(handshakeAbortReported(s), CLOSED, [A.EMIT_CLOSE]);
    assert.equal(closeEventCode(done, 1000), 1006);
    assert.equal(wasClean(done), false);
  });

  void test('close() and terminate() while CONNECTING abort the handshake', () => {
    expectStep(closeCalled(INITIAL_STATE), CLOSING, [A.ABORT_HANDSHAKE]);
    expectStep(terminateCalled(INITIAL_STATE), CLOSING, [A.ABORT_HANDSHAKE]);
  });

  void test('an error already reported is not reported again', () => {
    const s = stateOf(errorOccurred(stateOf(handshakeFailed(INITIAL_STATE))));
    expectStep(errorOccurred(s), CLOSING, []);
  });
});

void describe('connection state machine: we close first (RFC 6455 §7.1.2)', () => {
  void test('close(): CLOSING, close frame out, timer started; the transport ends only after the peer answers', () => {
    let s = expectStep(closeCalled(open()), CLOSING, [A.SEND_CLOSE, A.START_TIMER]);
    s = expectStep(closeFrameWritten(s), CLOSING, []);
    s = expectStep(closeFrameReceived(s), CLOSING, [A.END_TRANSPORT]);
    s = expectStep(transportClosed(s), CLOSED, [A.CLEAR_TIMER, A.EMIT_CLOSE, A.RELEASE_WAITING]);
    assert.equal(wasClean(s), true);
    assert.equal(closeEventCode(s, 1000), 1000);
  });

  void test('on bytes: close(1000, "bye") writes the frame; the peer echo completes the handshake cleanly', () => {
    const peer = new Peer();
    peer.close(1000, 'bye');
    assert.deepEqual(peer.out, [buildFrame({ opcode: OP.CLOSE, payload: concat(Uint8Array.of(0x03, 0xe8), bytes('bye')) })]);
    assert.deepEqual(peer.log, ['send-close 1000', 'START_TIMER']);
    peer.push(buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8] }));
    assert.deepEqual(peer.log.slice(2), ['END_TRANSPORT']);
    assert.equal(peer.out.length, 1, 'no second close frame');
    peer.apply(transportClosed(peer.state));
    assert.deepEqual(peer.log.slice(3), ['CLEAR_TIMER', 'RELEASE_WAITING', 'close 1000 clean=true']);
  });

  void test('close() while CLOSING sends nothing more; it ends the transport once both frames passed', () => {
    let s = stateOf(closeCalled(open()));
    expectStep(closeCalled(s), CLOSING, []); // our frame not yet written
    s = stateOf(closeFrameWritten(s));
    expectStep(closeCalled(s), CLOSING, []); // the peer has not answered
    s = stateOf(closeFrameReceived(s));
    expectStep(closeCalled(s), CLOSING, [A.END_TRANSPORT]);
  });

  void test('the peer answers before our close frame is written: the write ends the transport', () => {
    let s = stateOf(closeCalled(open()));
    s = expectStep(closeFrameReceived(s), CLOSING, []);
    expectStep(closeFrameWritten(s), CLOSING, [A.END_TRANSPORT]);
  });

  void test('the close timer fires: the transport is destroyed and close reports 1006, not clean', () => {
    let s = stateOf(closeFrameWritten(stateOf(closeCalled(open()))));
    s = expectStep(closeTimerFired(s), CLOSING, [A.DESTROY]);
    s = stateOf(transportClosed(s));
    assert.equal(closeEventCode(s, 1005), 1006);
    assert.equal(wasClean(s), false);
  });

  void test('close() after CLOSED does nothing', () => {
    const s = stateOf(transportClosed(open()));
    expectStep(closeCalled(s), CLOSED, []);
    expectStep(terminateCalled(s), CLOSED, []);
  });
});

void describe('connection state machine: the peer closes first (RFC 6455 §7.1.3, §5.5.1)', () => {
  void test('a close frame with a code is echoed; the handshake is clean', () => {
    const peer = new Peer(true);
    peer.push(clientClose([0x0f, 0xa0, ...bytes('done')])); // 4000 "done"
    assert.deepEqual(peer.out, [buildFrame({ opcode: OP.CLOSE, payload: concat(Uint8Array.of(0x0f, 0xa0), bytes('done')) })]);
    assert.deepEqual(peer.log, ['send-close 4000', 'END_TRANSPORT', 'START_TIMER']);
    assert.equal(readyStateOf(peer.state), CLOSING);
    peer.apply(transportClosed(peer.state));
    assert.equal(peer.log.at(-1), 'close 4000 clean=true');
  });

  void test('an empty close frame is answered with an empty one; close reports 1005 (§7.1.5)', () => {
    const peer = new Peer(true);
    peer.push(clientClose([]));
    assert.deepEqual(peer.out, [buildFrame({ opcode: OP.CLOSE, payload: [] })]);
    peer.apply(transportClosed(peer.state));
    assert.equal(peer.log.at(-1), 'close 1005 clean=true');
    assert.equal(closeReplyCode(1005), undefined);
    assert.equal(closeReplyCode(1001), 1001);
  });

  void test('the transport closing without a close frame reports 1006 (§7.1.5), not clean', () => {
    const peer = new Peer();
    peer.apply(transportEnded(peer.state));
    assert.equal(readyStateOf(peer.state), CLOSING);
    peer.apply(transportClosed(peer.state));
    assert.deepEqual(peer.log, ['END_TRANSPORT', 'CLEAR_TIMER', 'RELEASE_WAITING', 'close 1006 clean=false']);
  });

  void test('the peer ends the transport after CLOSED: we end ours, the state stays CLOSED', () => {
    expectStep(transportEnded(stateOf(transportClosed(open()))), CLOSED, [A.END_TRANSPORT]);
  });

  void test('a transport error destroys it; CLOSING unless CLOSED', () => {
    expectStep(transportErrored(open()), CLOSING, [A.DESTROY]);
    expectStep(transportErrored(stateOf(transportClosed(open()))), CLOSED, [A.DESTROY]);
  });

  void test('terminate(): CLOSING and destroyed, no close frame', () => {
    expectStep(terminateCalled(open()), CLOSING, [A.DESTROY]);
  });
});

void describe('connection state machine: failing the connection (RFC 6455 §7.1.7)', () => {
  void test('an invalid close payload (one byte) fails with 1002', () => {
    const peer = new Peer(true);
    peer.push(clientClose([0x03]));
    assert.deepEqual(peer.out, [buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xea] })]);
    // No close frame will be read after a receive error: the write of ours ends the transport.
    assert.deepEqual(peer.log, ['send-close 1002', 'END_TRANSPORT', 'START_TIMER', 'EMIT_ERROR']);
    assert.equal(peer.rx.stopped, true, 'nothing more is read');
    peer.apply(transportClosed(peer.state));
    assert.equal(peer.log.at(-1), 'close 1006 clean=false');
  });

  void test('a close code that may not be sent (1005 on the wire) fails with 1002', () => {
    const peer = new Peer(true);
    peer.push(clientClose([0x03, 0xed]));
    assert.equal(peer.log[0], 'send-close 1002');
  });

  void test('invalid UTF-8 in a close reason fails with 1007', () => {
    const peer = new Peer(true);
    peer.push(clientClose([0x03, 0xe8, 0xff]));
    assert.equal(peer.log[0], 'send-close 1007');
  });

  void test('an unmasked frame to a server fails with 1002; bytes after it are ignored', () => {
    const peer = new Peer(true);
    peer.push(concat(buildFrame({ opcode: OP.TEXT, payload: 'x' }), clientClose([0x03, 0xe8])));
    assert.deepEqual(peer.log, ['send-close 1002', 'END_TRANSPORT', 'START_TIMER', 'EMIT_ERROR']);
    assert.deepEqual(peer.messages, []);
  });

  void test('a receive error while CLOSING with our frame out ends the transport; the error is reported once', () => {
    let s = stateOf(closeFrameWritten(stateOf(closeCalled(open()))));
    s = expectStep(receiveFailed(s), CLOSING, [A.END_TRANSPORT, A.EMIT_ERROR]);
    expectStep(receiveFailed(s), CLOSING, [A.END_TRANSPORT]);
    expectStep(errorOccurred(s), CLOSING, []);
  });

  void test('a receive error while CLOSING before our frame is written: the write ends the transport', () => {
    let s = stateOf(closeCalled(open()));
    s = expectStep(receiveFailed(s), CLOSING, [A.EMIT_ERROR]);
    expectStep(closeFrameWritten(s), CLOSING, [A.END_TRANSPORT]);
  });

  void test('a failing handler closes an OPEN connection (the caller sends 1011) and leaves the transport to the handshake', () => {
    let s = expectStep(handlerFailed(open()), CLOSING, [A.SEND_CLOSE, A.START_TIMER, A.EMIT_ERROR]);
    s = expectStep(closeFrameWritten(s), CLOSING, [A.END_TRANSPORT]); // no close frame will be read
    expectStep(handlerFailed(s), CLOSING, []);
  });

  void test('a send that fails (an unreadable Blob) fails the connection without a close frame', () => {
    const s = expectStep(sendFailed(open()), CLOSING, [A.START_TIMER, A.END_TRANSPORT, A.EMIT_ERROR]);
    expectStep(sendFailed(s), CLOSING, [A.END_TRANSPORT]);
    expectStep(sendFailed(stateOf(transportClosed(open()))), CLOSED, []);
  });
});

void describe('connection state machine: sends (RFC 6455 §5.4, §7.1.4)', () => {
  void test('data and control frames are refused unless OPEN', () => {
    const closing = stateOf(closeCalled(open()));
    const closed = stateOf(transportClosed(closing));
    for (const s of [closing, closed]) {
      expectStep(sendCalled(s, true), readyStateOf(s), [A.REFUSE]);
      expectStep(wholeMessageCalled(s), readyStateOf(s), [A.REFUSE]);
      expectStep(controlCalled(s), readyStateOf(s), [A.REFUSE]);
    }
    expectStep(controlCalled(open()), OPEN, []);
  });

  void test('on bytes: data after close() is refused and nothing is written after the close frame', () => {
    const peer = new Peer();
    peer.send('a');
    peer.close(1000);
    peer.send('b');
    assert.deepEqual(peer.out, [
      buildFrame({ opcode: OP.TEXT, payload: 'a' }),
      buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8] }),
    ]);
    assert.equal(peer.log.at(-1), 'REFUSE');
  });

  void test('a message in fragments: continuation opcodes, whole messages wait, its end releases them', () => {
    let s = open();
    assert.equal(continuesMessage(s), false);
    s = expectStep(sendCalled(s, false), OPEN, []);
    assert.equal(hasOpen(s), true);
    s = stateOf(dataFrameSent(s, false));
    assert.equal(continuesMessage(s), true);
    expectStep(wholeMessageCalled(s), OPEN, [A.WAIT]);
    expectStep(controlCalled(s), OPEN, []); // a ping may go between fragments
    s = expectStep(sendCalled(s, true), OPEN, [A.RELEASE_WAITING]);
    assert.equal(continuesMessage(s), true, 'the last fragment is still a continuation');
    s = stateOf(dataFrameSent(s, true));
    assert.equal(continuesMessage(s), false);
    expectStep(wholeMessageCalled(s), OPEN, []);
  });

  void test('on bytes: fragments interleaved with a ping and our close keep their opcodes', () => {
    const peer = new Peer();
    peer.send('he', false);
    assert.equal(actionsOf(controlCalled(peer.state)), 0);
    peer.out.push(buildFrame({ opcode: OP.PING, payload: 'p' }));
    peer.send('l', false);
    peer.send('lo', true);
    peer.send('next');
    assert.deepEqual(peer.out, [
      buildFrame({ opcode: OP.TEXT, payload: 'he', fin: false }),
      buildFrame({ opcode: OP.PING, payload: 'p' }),
      buildFrame({ opcode: OP.CONT, payload: 'l', fin: false }),
      buildFrame({ opcode: OP.CONT, payload: 'lo' }),
      buildFrame({ opcode: OP.TEXT, payload: 'next' }),
    ]);
  });

  void test('a message in fragments never ended is over when the transport closes; what waited is released', () => {
    let s = stateOf(sendCalled(open(), false));
    s = expectStep(transportClosed(s), CLOSED, [A.CLEAR_TIMER, A.EMIT_CLOSE, A.RELEASE_WAITING]);
    assert.equal(hasOpen(s), false);
  });

  void test('the peer closing while we send fragments: our close frame follows the open message', () => {
    const peer = new Peer(true);
    peer.send('part', false);
    peer.push(clientClose([0x03, 0xe8]));
    assert.equal(peer.out.length, 2);
    assert.deepEqual(peer.out[1], buildFrame({ opcode: OP.CLOSE, payload: [0x03, 0xe8] }));
    peer.send('rest');
    assert.equal(peer.log.at(-1), 'REFUSE');
  });
});

function hasOpen(state: number): boolean {
  return (state & ConnectionFlag.MESSAGE_OPEN) !== 0;
}
