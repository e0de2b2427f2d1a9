/**
 * A request target split into its path and its query: the one place the Node layer, the server
 * and the apps split `req.url` at `?` (RFC 9110 §4.1, RFC 3986 §3.4: the query starts at the
 * first `?` and is not part of the path).
 * @packageDocumentation
 */

/** A request target's two parts. */
export interface RequestTarget {
  /** The path, `/` when there is no URL. */
  path: string;
  /** What follows the first `?`, undefined when there is no `?`. */
  query: string | undefined;
}

/** Splits `url` (a request's `req.url`, origin form `/path?query`) into its path and query. */
export function splitTarget(url: string | undefined): RequestTarget {
  const text = url ?? '/';
  const q = text.indexOf('?');
  return q === -1 ? { path: text, query: undefined } : { path: text.slice(0, q), query: text.slice(q + 1) };
}

/** The path of `url` (a request's `req.url`) without the query; `/` when there is no URL. */
export function requestPath(url: string | undefined): string {
  return splitTarget(url).path;
}
