/**
 * One setting of `parley serve` as a typed value: its kind (how a value is read from a JSON file,
 * an environment variable or a flag), its default, its environment variable, its flag and its
 * line of documentation. A table of these (config.ts) is the one source of the configuration:
 * {@link ConfigOf} derives the config type from it, the loader reads every source with it, and
 * `--help` and the operator's guide (checked by a test) list it.
 *
 * Why a typed table and not a schema library (zod and the like): the table must carry what a
 * schema library does not model (an environment variable, a flag, a doc line, a secret mark per
 * setting), values come as text from the environment and flags (`yes`, `on`, `a,b,c`) as well as
 * JSON from the file, and every error names the setting and the source its bad value came from.
 * With a library, each of those would be a wrapper around it; as a table they are the table, and
 * `parley serve` keeps no runtime dependency for it. Each kind below is a small parser.
 * @packageDocumentation
 */

/** How a setting's value is read and checked. */
export type Kind = 'port' | 'string' | 'list' | 'boolean' | 'auto-boolean' | 'int' | 'int-or-auto' | 'number' | 'enum' | 'close-code' | 'hops';

/** A converted value, or why the raw value cannot be used (the loader adds the setting and the source). */
export type Parsed<T> = { value: T } | { error: string };

/** Where a setting is spelled outside the config file, and what is said of it. */
export interface SettingMeta {
  /** Environment variable (`PARLEY_…`). */
  env: string;
  /** Command-line flag without dashes. */
  flag: string;
  /** One line for `--help` and the operator's guide. */
  doc: string;
  /** Never printed (`--print-config`, errors). */
  secret?: boolean;
}

/** One setting whose value in the config has type `T`. */
export interface Setting<T> extends SettingMeta {
  readonly kind: Kind;
  readonly default: T;
  /** Allowed values of an `enum`. */
  readonly values?: readonly string[];
  /** Smallest allowed number. */
  readonly min?: number;
  /** Largest allowed number. */
  readonly max?: number;
  /**
   * Converts one raw value: a string from the environment or a flag (`fromText`), or a JSON
   * value from the file.
   */
  readonly parse: (raw: unknown, fromText: boolean) => Parsed<T>;
}

/** A group of settings (a JSON object in the config file), or the whole table. */
export interface SettingGroup {
  readonly [key: string]: Setting<unknown> | SettingGroup;
}

/**
 * The config type of a table: each setting becomes its value type, each group an object of its
 * settings. Homomorphic, so the TSDoc written on the table's entries shows on the config's fields.
 */
export type ConfigOf<G> = { -readonly [K in keyof G]: G[K] extends Setting<infer T> ? T : ConfigOf<G[K]> };

/** Whether a table entry is a setting (else it is a group). */
export function isSetting(entry: Setting<unknown> | SettingGroup): entry is Setting<unknown> {
  return typeof entry.parse === 'function';
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

function parseBoolean(raw: unknown, fromText: boolean): Parsed<boolean> {
  if (typeof raw === 'boolean') return { value: raw };
  if (fromText && typeof raw === 'string') {
    const t = raw.trim().toLowerCase();
    if (TRUE.includes(t)) return { value: true };
    if (FALSE.includes(t)) return { value: false };
  }
  return { error: 'must be true or false' };
}

function parseNumber(raw: unknown, fromText: boolean, integer: boolean, { min, max }: NumberOptions = {}): Parsed<number> {
  const n = fromText && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return { error: `must be ${integer ? 'an integer' : 'a number'}` };
  if (min !== undefined && n < min) return { error: `must be at least ${min}` };
  if (max !== undefined && n > max) return { error: `must be at most ${max}` };
  return { value: n };
}

/** Extra facts of a numeric setting. */
export interface NumberOptions {
  /** Smallest allowed value. */
  min?: number;
  /** Largest allowed value. */
  max?: number;
}

/** Extra facts of a text setting. */
export interface TextOptions {
  /** Never printed. */
  secret?: boolean;
}

function make<T>(kind: Kind, def: T, env: string, flag: string, doc: string, parse: Setting<T>['parse'], extra: Partial<Pick<Setting<T>, 'values' | 'min' | 'max' | 'secret'>> = {}): Setting<T> {
  return { kind, default: def, env, flag, doc, parse, ...extra };
}

/**
 * The kinds of setting, as builders: `int(10_000, 'PARLEY_MAX_CONNECTIONS', 'max-connections',
 * 'WebSocket connections at once', { min: 1 })`. Each returns a {@link Setting} of its value type.
 */
export const setting = {
  /** A TCP port, 0 to 65535 (0: any free one). */
  port: (def: number, env: string, flag: string, doc: string): Setting<number> => make('port', def, env, flag, doc, (raw, fromText) => {
    const r = parseNumber(raw, fromText, true);
    return 'value' in r && r.value >= 0 && r.value <= 65535 ? r : { error: 'must be an integer from 0 to 65535' };
  }),
  /** Any text. */
  string: (def: string, env: string, flag: string, doc: string, options: TextOptions = {}): Setting<string> =>
    make<string>('string', def, env, flag, doc, (raw) => (typeof raw === 'string' ? { value: raw } : { error: 'must be a string' }), options),
  /** A list of strings: a JSON array in the file, comma-separated text elsewhere. */
  list: (def: string[], env: string, flag: string, doc: string, options: TextOptions = {}): Setting<string[]> => make<string[]>('list', def, env, flag, doc, (raw, fromText) => {
    if (fromText && typeof raw === 'string') return { value: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
    if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) return { value: [...raw] as string[] };
    return { error: 'must be a list of strings' };
  }, options),
  /** true or false (as text also yes/no, on/off, 1/0). */
  boolean: (def: boolean, env: string, flag: string, doc: string): Setting<boolean> => make('boolean', def, env, flag, doc, parseBoolean),
  /** `auto`, true or false. */
  autoBoolean: (def: 'auto' | boolean, env: string, flag: string, doc: string): Setting<'auto' | boolean> =>
    make('auto-boolean', def, env, flag, doc, (raw, fromText) => (raw === 'auto' ? { value: 'auto' } : parseBoolean(raw, fromText))),
  /** A whole number. */
  int: (def: number, env: string, flag: string, doc: string, options: NumberOptions = {}): Setting<number> =>
    make('int', def, env, flag, doc, (raw, fromText) => parseNumber(raw, fromText, true, options), options),
  /** `auto` (the program picks, e.g. one per core) or a whole number. */
  intOrAuto: (def: 'auto' | number, env: string, flag: string, doc: string, options: NumberOptions = {}): Setting<'auto' | number> =>
    make<'auto' | number>('int-or-auto', def, env, flag, doc, (raw, fromText) => {
      if (raw === 'auto') return { value: 'auto' };
      const r = parseNumber(raw, fromText, true, options);
      // A number below the minimum keeps parseNumber's reason; anything else was neither.
      return 'error' in r && r.error === 'must be an integer' ? { error: 'must be auto or an integer' } : r;
    }, options),
  /** Any finite number. */
  number: (def: number, env: string, flag: string, doc: string, options: NumberOptions = {}): Setting<number> =>
    make('number', def, env, flag, doc, (raw, fromText) => parseNumber(raw, fromText, false, options), options),
  /** One of `values` (its type is their union). */
  oneOf: <const V extends readonly string[]>(values: V, def: V[number], env: string, flag: string, doc: string): Setting<V[number]> =>
    make<V[number]>('enum', def, env, flag, doc, (raw) => (typeof raw === 'string' && values.includes(raw) ? { value: raw } : { error: `must be one of ${values.join(', ')}` }), { values }),
  /** The close code of a shutdown: 1001 (going away) or 1012 (service restart), RFC 6455 §7.4.1. */
  closeCode: (def: number, env: string, flag: string, doc: string): Setting<number> => make('close-code', def, env, flag, doc, (raw, fromText) => {
    const r = parseNumber(raw, fromText, true);
    return 'value' in r && (r.value === 1001 || r.value === 1012) ? r : { error: 'must be 1001 or 1012' };
  }),
  /** Trusted proxy hops: true (one), false (none) or a number from 0 to 32. */
  hops: (def: boolean | number, env: string, flag: string, doc: string): Setting<boolean | number> => make('hops', def, env, flag, doc, (raw, fromText) => {
    if (typeof raw === 'boolean') return { value: raw };
    if (fromText && typeof raw === 'string' && /^(true|false|yes|no|on|off)$/i.test(raw.trim())) return parseBoolean(raw, fromText);
    const n = fromText && typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= 32 ? { value: n } : { error: 'must be true, false or a number of proxies from 0 to 32' };
  }),
};
