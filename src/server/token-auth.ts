/**
 * Connection authentication with signed tokens (JWT, via `jose`): HS256 with a shared secret, or
 * RS256/ES256 with a public key. The token's `sub` is the user; its `topics` claim lists the
 * topic patterns the user may subscribe to and publish on. Permissions are checked per topic
 * for every `sub` and `pub` a `parley.v1` client sends.
 * @packageDocumentation
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as http from 'node:http';
import { jwtVerify, errors as joseErrors } from 'jose';
import { splitTarget } from '../node/request-path.js';
import type { ServerConfig } from './config.js';
import { USER_TOPIC_PREFIX, userTopic } from './user-topic.js';

/** What a connection may do: topic patterns (`chat:lobby` exactly, `chat:*` by prefix). */
export interface Permissions {
  subscribe: readonly string[];
  publish: readonly string[];
}

/** Who a connection is; becomes `ws.data`. */
export interface Identity {
  /** The user id (`sub`), or undefined for an anonymous connection. */
  user: string | undefined;
  anonymous: boolean;
  /** Rights from the token (anonymous: none); the public rights are added when checking. */
  permissions: Permissions;
  /** Seconds since the epoch when the token expires, if it does. */
  expiresAt: number | undefined;
}

/** Why a handshake was refused: a metric label and a log field, never sent to the client. */
export type AuthFailure = 'missing_token' | 'expired' | 'bad_signature' | 'malformed' | 'bad_claims' | 'alg_not_allowed';

/** A refused handshake: `status` is the HTTP answer (401). */
export class AuthError extends Error {
  /** HTTP status for the handshake answer. */
  readonly status = 401;
  /** @param reason - why (for metrics and logs) */
  constructor(readonly reason: AuthFailure) {
    super(`authentication failed: ${reason}`);
    this.name = 'AuthError';
  }
}

/** Whether `topic` matches `pattern`: equal, or a `prefix*` pattern whose prefix it starts with. */
export function topicMatches(pattern: string, topic: string): boolean {
  return pattern.endsWith('*') ? topic.startsWith(pattern.slice(0, -1)) : pattern === topic;
}

/** Pulls the token from `?token=` (what browsers can send) or `Authorization: Bearer`. */
export function tokenFrom(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    if (token !== '') return token;
  }
  const { query } = splitTarget(req.url);
  if (query === undefined) return undefined;
  const token = new URLSearchParams(query).get('token');
  return token === null || token === '' ? undefined : token;
}

function patterns(value: unknown): string[] | undefined {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 1000 || !value.every((p) => typeof p === 'string' && p.length > 0 && p.length <= 200)) return undefined;
  return value as string[];
}

/**
 * Checks tokens and permissions with the server's configuration. Built once at start: the key is
 * read and parsed there, so a bad key fails the start, not the first connection.
 */
export class TokenAuth {
  readonly #key: Uint8Array | KeyObject | undefined;
  readonly #algorithms: string[];
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #clockTolerance: number;
  readonly #anonymous: boolean;
  readonly #public: Permissions;

  /**
   * @param auth - the `auth` settings
   * @throws Error when the public key cannot be read or parsed
   */
  constructor(auth: ServerConfig['auth']) {
    const pem = auth.jwtPublicKeyFile !== '' ? readFileSync(auth.jwtPublicKeyFile, 'utf8') : auth.jwtPublicKey;
    const algorithms: string[] = [];
    let key: Uint8Array | KeyObject | undefined;
    if (pem !== '') {
      try {
        key = createPublicKey(pem);
      } catch (error) {
        throw new Error(`auth.jwtPublicKey${auth.jwtPublicKeyFile !== '' ? 'File' : ''}: not a PEM public key (${(error as Error).message})`, { cause: error });
      }
      algorithms.push(key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256');
    } else if (auth.jwtSecret !== '') {
      key = new TextEncoder().encode(auth.jwtSecret);
      algorithms.push('HS256');
    }
    this.#key = key;
    this.#algorithms = auth.jwtAlgorithms.length > 0 ? [...auth.jwtAlgorithms] : algorithms;
    this.#issuer = auth.jwtIssuer === '' ? undefined : auth.jwtIssuer;
    this.#audience = auth.jwtAudience === '' ? undefined : auth.jwtAudience;
    this.#clockTolerance = auth.clockToleranceSec;
    this.#anonymous = auth.anonymous === 'auto' ? key === undefined : auth.anonymous;
    this.#public = { subscribe: [...auth.publicSubscribe], publish: [...auth.publicPublish] };
  }

  /** Whether tokens can be checked at all (a key is configured). */
  get hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** Whether connections without a token are accepted. */
  get allowsAnonymous(): boolean {
    return this.#anonymous;
  }

  /**
   * Authenticates an upgrade request.
   * @throws AuthError (status 401) with the reason
   */
  async authenticate(req: http.IncomingMessage): Promise<Identity> {
    const token = tokenFrom(req);
    if (token === undefined) {
      if (this.#anonymous) return { user: undefined, anonymous: true, permissions: { subscribe: [], publish: [] }, expiresAt: undefined };
      throw new AuthError('missing_token');
    }
    // A token with no key to check it is not trusted, even when anonymous access is on.
    if (this.#key === undefined) throw new AuthError('bad_signature');
    return this.verify(token);
  }

  /**
   * Verifies a token.
   * @throws AuthError with the reason
   */
  async verify(token: string): Promise<Identity> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key!, {
        algorithms: this.#algorithms,
        issuer: this.#issuer,
        audience: this.#audience,
        clockTolerance: this.#clockTolerance,
        requiredClaims: ['sub'],
      }));
    } catch (error) {
      throw new AuthError(failureOf(error));
    }
    const user = payload.sub;
    // Any string is a user id (users are not topic names: user-topic.ts encodes them); the length
    // bound keeps presence and logs small.
    if (typeof user !== 'string' || user.length === 0 || user.length > 128) throw new AuthError('bad_claims');
    // A token issued in the future is a forged or mis-clocked one (RFC 7519 §4.1.6); jose checks
    // `iat` only against a maximum age, so the skew is checked here.
    if (typeof payload.iat === 'number' && payload.iat * 1000 > Date.now() + this.#clockTolerance * 1000) throw new AuthError('bad_claims');
    const topics = payload.topics;
    let subscribe: string[] | undefined = [];
    let publish: string[] | undefined = [];
    if (topics !== undefined) {
      if (typeof topics !== 'object' || topics === null || Array.isArray(topics)) throw new AuthError('bad_claims');
      subscribe = patterns((topics as Record<string, unknown>).subscribe);
      publish = patterns((topics as Record<string, unknown>).publish);
      if (subscribe === undefined || publish === undefined) throw new AuthError('bad_claims');
    }
    return { user, anonymous: false, permissions: { subscribe, publish }, expiresAt: payload.exp };
  }

  /**
   * Whether a connection may subscribe to or publish on `topic`. `user:<id>` topics are private:
   * only that user may subscribe (the topic is {@link userTopic} of the id), and only server code
   * (the HTTP API) publishes to them.
   * `parley:` topics are reserved for the servers.
   */
  allows(identity: Identity, action: 'subscribe' | 'publish', topic: string): boolean {
    // `parley:` topics carry the servers' own commands (control.ts): never a client's.
    if (topic.startsWith('parley:')) return false;
    if (topic.startsWith(USER_TOPIC_PREFIX)) return action === 'subscribe' && identity.user !== undefined && topic === userTopic(identity.user);
    const own = identity.permissions[action];
    const everyone = this.#public[action];
    return own.some((p) => topicMatches(p, topic)) || everyone.some((p) => topicMatches(p, topic));
  }
}

function failureOf(error: unknown): AuthFailure {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return 'bad_claims';
  return 'malformed';
}
