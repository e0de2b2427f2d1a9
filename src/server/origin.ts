/**
 * The `Origin` check of WebSocket upgrades: one function for the server's `/ws` (the
 * `ws.origins` setting) and the apps (their own host only).
 * @packageDocumentation
 */
import type * as http from 'node:http';

/**
 * Which origins an endpoint accepts: a list of `Origin` values (empty: any), or `'same-origin'`,
 * the server the request came to (`Origin`'s host equals `Host`).
 */
export type OriginPolicy = readonly string[] | 'same-origin';

/**
 * Whether an upgrade's `Origin` is allowed by `policy`. A request without `Origin` is not from a
 * browser page and passes: the check stops another site's page from using a visitor's browser
 * (RFC 6455 §10.2), not other clients, which can send any `Origin` they like.
 */
export function originAllowed(policy: OriginPolicy, origin: string | undefined, req: Pick<http.IncomingMessage, 'headers'>): boolean {
  if (origin === undefined) return true;
  if (policy !== 'same-origin') return policy.length === 0 || policy.includes(origin);
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
