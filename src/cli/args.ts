/**
 * Argument parsing shared by the CLI commands, on `node:util`'s `parseArgs`, with errors that
 * name the bad flag and a `--help` text per command.
 * @packageDocumentation
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI usage error: printed with the command's help, exit status 2. */
export class UsageError extends Error {}

/** What {@link parse} returns: flag values by name (strings or booleans), and positionals. */
export interface ParsedArgs<T> {
  values: { [K in keyof T]?: T[K] extends { multiple: true } ? (T[K] extends { type: 'boolean' } ? boolean[] : string[]) : T[K] extends { type: 'boolean' } ? boolean : string } & { help?: boolean };
  positionals: string[];
}

/** Parses `argv` with `options`; unknown flags become a {@link UsageError}. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals: boolean): ParsedArgs<T> {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Parses a byte count (a non-negative integer). */
export function parseBytes(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} must be a non-negative integer number of bytes, got '${value}'`);
  return n;
}

/** Parses a TCP port number, 0–65535. */
export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got '${value}'`);
  return n;
}
