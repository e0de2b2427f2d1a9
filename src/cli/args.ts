/**
 * Argument parsing shared by the CLI commands, on `node:util`'s `parseArgs`, with errors that
 * name the bad flag, suggest the flag that was probably meant, and point at `--help` (the full
 * help would scroll the error away).
 * @packageDocumentation
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI usage error: printed with a pointer to the command's `--help`, exit status 2. */
export class UsageError extends Error {}

/** What {@link parse} returns: flag values by name (strings or booleans), and positionals. */
export interface ParsedArgs<T> {
  values: { [K in keyof T]?: T[K] extends { multiple: true } ? (T[K] extends { type: 'boolean' } ? boolean[] : string[]) : T[K] extends { type: 'boolean' } ? boolean : string } & { help?: boolean };
  positionals: string[];
}

/**
 * Edit distance between two short strings (flag names), for "did you mean": insertions,
 * deletions, substitutions and swaps of two neighbours (`--prot` is one typo from `--port`).
 */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known flag closest to `given` (both without dashes), if it is close enough to be a typo:
 * within a third of its length in edits, or `given` is a prefix of exactly one flag.
 */
export function closestFlag(given: string, known: readonly string[]): string | undefined {
  const prefixed = known.filter((k) => given.length >= 2 && k.startsWith(given));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(given, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(given.length, best.length) / 3)) ? best : undefined;
}

/**
 * Turns `--flag -1` into `--flag=-1` for string flags: `parseArgs` refuses a value that starts
 * with a dash as ambiguous, but a negative number can only be a value, and the user should hear
 * that it is out of range rather than how to quote it.
 */
export function joinNegativeValues(argv: readonly string[], stringFlags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && stringFlags.has(a.slice(2)) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * A {@link UsageError} from a `parseArgs` error, in the CLI's own words (lower case, like every
 * other message) and with a "did you mean" for an unknown flag.
 */
export function usageErrorFrom(error: unknown, known: readonly string[]): UsageError {
  const e = error as Error & { code?: string };
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-{1,2}[^'=]+)/.exec(e.message)?.[1] ?? '';
    const close = flag.startsWith('--') ? closestFlag(flag.slice(2), known) : undefined;
    return new UsageError(`unknown option '${flag}'${close === undefined ? '' : ` (did you mean --${close}?)`}`);
  }
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(e.message)?.[1];
    return new UsageError(arg === undefined ? 'unexpected argument' : `unexpected argument '${arg}'`);
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'(--[^' ]+)/.exec(e.message)?.[1];
    return new UsageError(flag === undefined ? e.message.charAt(0).toLowerCase() + e.message.slice(1) : `${flag} needs a value (write ${flag}=VALUE for a value that starts with '-')`);
  }
  return new UsageError(e.message.charAt(0).toLowerCase() + e.message.slice(1));
}

/** Parses `argv` with `options`; unknown flags become a {@link UsageError}. */
export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals: boolean): ParsedArgs<T> {
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  const strings = new Set(Object.entries(options).filter(([, o]) => o.type === 'string').map(([name]) => name));
  try {
    return parseArgs({ args: joinNegativeValues(argv, strings), options: all, allowPositionals, strict: true });
  } catch (error) {
    throw usageErrorFrom(error, Object.keys(all));
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
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be an integer from 0 to 65535, got '${value}'`);
  return n;
}
