import { describe, expect, it } from 'vitest';
import { isStaleSocket } from '../../src/runpod/stale-socket.js';

// undici's SocketError carries the socket's counters; a reset is Node's error, tagged by the client's connector.
const undiciSocket = (bytesRead: number) => ({ code: 'UND_ERR_SOCKET', message: 'other side closed', socket: { bytesRead } });
const nodeError = (code: string, bytesRead?: number) => (bytesRead === undefined ? { code } : { code, bytesRead });

describe('isStaleSocket: a failure on a kept-alive socket the server had closed, before any byte of the answer', () => {
  it.each([
    ['other side closed on a socket that carried answers', undiciSocket(512), false, true],
    ['other side closed on a fresh socket', undiciSocket(0), false, false],
    ['other side closed after part of this answer', undiciSocket(512), true, false],
    ['ECONNRESET on a socket that carried answers', nodeError('ECONNRESET', 300), false, true],
    ['EPIPE on a socket that carried answers', nodeError('EPIPE', 300), false, true],
    ['ECONNRESET on a fresh socket', nodeError('ECONNRESET', 0), false, false],
    ['ECONNRESET with no byte count (not through our connector): not known to be reused', nodeError('ECONNRESET'), false, false],
    ['a refused connection', nodeError('ECONNREFUSED', 0), false, false],
    ['a headers timeout on a reused socket: the server is there, but slow', nodeError('UND_ERR_HEADERS_TIMEOUT', 300), false, false],
    ['not an error object', 'boom', false, false],
    ['null', null, false, false],
  ] as [string, unknown, boolean, boolean][])('%s', (_name, err, answered, want) => {
    expect(isStaleSocket(err, answered)).toBe(want);
  });
});
