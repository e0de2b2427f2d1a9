/**
 * The slow path of an upgrade: `ws`'s `verifyClient` (sync, or with a callback) and then Parley's
 * async `authenticate`, under the handshake deadline. A refusal is an HTTP error response
 * (RFC 6455 §4.2.2: anything but 101 refuses the handshake); the authenticator's result becomes
 * the connection's `data`. Servers with neither hook never come here, so a burst of plain
 * handshakes allocates no timer and no closures.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeaderLookup } from '../protocol/index.js';
import { abortHandshake, destroyOnError } from './server-handshake.js';
import type { VerifyClient } from './server-options.js';
import type { VerifyClientInfo } from './ws-types.js';

/** The server options that admit or refuse a client. */
export interface UpgradeHooks<Request extends http.IncomingMessage> {
  verifyClient?: VerifyClient<Request>;
  authenticate?: (req: Request) => unknown;
}

/**
 * Runs `verifyClient`, then `authenticate` (only if the first admits the client), and either
 * refuses the upgrade (401, or the status the hook gives) or calls `complete` with the
 * authenticator's result, after taking the socket's handshake 'error' listener off. Past
 * `timeout` ms the client gets 408.
 */
export function runUpgradeHooks<Request extends http.IncomingMessage>(hooks: UpgradeHooks<Request>, timeout: number, header: HeaderLookup, req: Request, socket: Duplex, complete: (data: unknown) => void): void {
  const deadline = setTimeout(() => abortHandshake(socket, 408), timeout);
  deadline.unref();
  const refuse = (status: number, message?: string, headers?: http.OutgoingHttpHeaders): void => {
    clearTimeout(deadline);
    abortHandshake(socket, status, message, headers);
  };
  const admit = (data: unknown): void => {
    clearTimeout(deadline);
    socket.removeListener('error', destroyOnError);
    complete(data);
  };
  const authenticate = (): void => {
    const auth = hooks.authenticate;
    if (auth === undefined) {
      admit(undefined);
      return;
    }
    Promise.resolve()
      .then(() => auth(req))
      .then(
        (data) => (data === false ? refuse(401) : admit(data)),
        (error: unknown) => {
          const status = (error as { status?: unknown } | null)?.status;
          refuse(typeof status === 'number' && status >= 400 && status < 600 ? status : 401);
        },
      );
  };

  const verify = hooks.verifyClient;
  if (verify === undefined) {
    authenticate();
    return;
  }
  const info: VerifyClientInfo<Request> = {
    origin: header(req.headers['sec-websocket-version'] === '8' ? 'sec-websocket-origin' : 'origin'),
    secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    req,
  };
  if (verify.length === 2) {
    (verify)(
      info,
      (result, code = 401, message, headers) => (result ? authenticate() : refuse(code, message, headers)),
    );
    return;
  }
  if (!(verify as (i: VerifyClientInfo<Request>) => boolean)(info)) {
    refuse(401);
    return;
  }
  authenticate();
}
