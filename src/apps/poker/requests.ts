/**
 * The shapes of the app's requests, checked before anything acts on them. A malformed request
 * is refused with `BAD_REQUEST` (and the field at fault); nothing in a refusal echoes the input.
 * @packageDocumentation
 */
import { RealtimeError } from '../../index.js';

/** A request's data as an object, or a refusal. */
export function asObject(data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RealtimeError('BAD_REQUEST', 'The request data must be an object.');
  return data as Record<string, unknown>;
}

/** A string field. */
export function stringField(data: Record<string, unknown>, name: string): string {
  const value = data[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > 100) throw new RealtimeError('BAD_REQUEST', `The field "${name}" must be a string.`);
  return value;
}

/** An optional integer field (`undefined` when absent). */
export function optionalInteger(data: Record<string, unknown>, name: string): number | undefined {
  const value = data[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new RealtimeError('BAD_REQUEST', `The field "${name}" must be a whole number.`);
  return value;
}

/** A boolean field. */
export function booleanField(data: Record<string, unknown>, name: string): boolean {
  const value = data[name];
  if (typeof value !== 'boolean') throw new RealtimeError('BAD_REQUEST', `The field "${name}" must be true or false.`);
  return value;
}
