/**
 * Stale keep-alive sockets. A pooled socket the server has already closed (its keep-alive timeout passed while our
 * event loop was busy, so undici never saw the close) fails the next request written on it before any byte of an
 * answer: undici's "other side closed" (UND_ERR_SOCKET), or ECONNRESET / EPIPE when the server's kernel resets it.
 * Such a failure says nothing about the server's health — the next socket is a fresh one — so the requester retries it
 * at once without counting it as a transient failure (requester.ts bounds how often). A socket that never carried an
 * answer (a fresh connection closed or reset) is not stale: that failure counts as any other.
 *
 * Whether a socket was reused is read from the bytes it had received before the failure: undici's SocketError carries
 * them (`socket.bytesRead`); a reset is Node's own error, so the connector below copies them onto it first.
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector } from 'undici';
import buildConnector from 'undici/lib/core/connect.js';

/** Socket errors a dead kept-alive connection gives when a request is written on it. */
const STALE_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Bytes the failed request's socket had received before it failed (undefined: not known). */
function bytesReadBefore(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { bytesRead?: unknown; socket?: { bytesRead?: unknown } };
  if (typeof e.bytesRead === 'number') return e.bytesRead;
  if (typeof e.socket?.bytesRead === 'number') return e.socket.bytesRead;
  return undefined;
}

/**
 * A failure of a request that got no byte of its answer, on a socket that had carried earlier answers. Pure over the
 * error's fields: `answered` says whether any byte of this request's answer arrived.
 */
export function isStaleSocket(err: unknown, answered: boolean): boolean {
  if (answered || err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !STALE_CODES.has(code)) return false;
  return (bytesReadBefore(err) ?? 0) > 0;
}

/** Errors send() saw on a stale socket (isStaleSocket when they happened), for the client to say so. */
const seen = new WeakSet<object>();

/** Notes a failed request's error if it was a stale socket's (send.ts, which knows whether any answer byte came). */
export function noteFailure(err: unknown, answered: boolean): void {
  if (isStaleSocket(err, answered)) seen.add(err as object);
}

/** Whether send() saw this error on a stale socket. */
export function wasStaleSocket(err: unknown): boolean {
  return err !== null && typeof err === 'object' && seen.has(err);
}

/**
 * undici's default connector (as a Pool builds it: 10 s connect timeout), with one addition: a socket error gets the
 * socket's `bytesRead` before undici hands the error to the request, so that a reset of a reused socket can be told
 * from a reset of a fresh one.
 */
export function connectorTaggingResets(): BuildConnector.connector {
  const connect = buildConnector({ timeout: 10_000 });
  return (options, callback) =>
    connect(options, (err, socket) => {
      if (socket) {
        const s = socket as Socket;
        s.prependListener('error', (e: unknown) => {
          if (e !== null && typeof e === 'object' && !('bytesRead' in e)) (e as { bytesRead?: number }).bytesRead = s.bytesRead;
        });
      }
      // undici's callback type is an overload pair; pass the two arguments through as they came.
      (callback as (e: Error | null, s: Socket | null) => void)(err, socket as Socket | null);
    });
}
