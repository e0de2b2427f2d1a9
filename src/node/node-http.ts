/**
 * `node:http` and `node:https`, loaded with `require` rather than an ES module import.
 *
 * An ES module import of a built-in reads every export of it, getters included. From Node 22 on,
 * `node:http` has getters for `WebSocket`, `MessageEvent` and `CloseEvent` that load undici
 * (Node's fetch and WebSocket implementation), so `import ... from 'node:http'`, even of one
 * name, put undici into every process that imported Parley: on Node 24.21, about 0.8 MB of its
 * source as a string and 1.5 MB more live heap, which every full garbage collection then marks.
 * `require` leaves the getters alone, as it does for `ws`, which is CommonJS.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

const load = createRequire(import.meta.url);

/** `node:http`. */
export const httpModule = load('node:http') as typeof Http;

/** `node:https`. */
export const httpsModule = load('node:https') as typeof Https;
