/**
 * What the generator does with control frames a server sends mid-run: a ping gets its pong
 * (RFC 6455 §5.5.2) so a server with heartbeats on is not penalised; a close is a failure, since
 * no workload asks the server to close.
 */
import type { Socket } from 'node:net';
import { Opcode, buildMaskedFrame } from './frame-builder.js';

/**
 * Handles one control frame.
 * @param opcode - close, ping or pong
 * @param payload - the control payload
 * @param socket - where a pong goes
 * @returns a failure reason, or undefined when the frame is acceptable
 */
export function handleControlFrame(opcode: number, payload: Buffer, socket: Socket): string | undefined {
  if (opcode === Opcode.ping) {
    socket.write(buildMaskedFrame(Opcode.pong, payload));
    return undefined;
  }
  if (opcode === Opcode.pong) return undefined;
  const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
  return `server sent a close frame (code ${code}) during the run`;
}
