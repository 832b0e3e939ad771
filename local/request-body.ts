/**
 * Request bodies as the hub's listeners read them: whole, up to a limit (API Gateway's 10 MB for the
 * routes, the same for the AWS APIs).
 *
 * A body over the limit is still read, and thrown away, up to {@link MAX_DISCARDED_BODY_BYTES}, before
 * the caller answers 413 and closes the connection: a client is still sending when the answer is
 * ready, and a server that closes a connection with unread bytes in it resets it, so the client would
 * see "connection reset" instead of the 413. Past that bound (declared up front, or streamed) the
 * answer goes out at once and the connection is closed mid-upload: the hub does not read gigabytes to
 * be polite.
 */
import type { IncomingMessage } from 'node:http';

/** How much of a body over the limit is read and discarded so that its sender gets the 413. */
export const MAX_DISCARDED_BODY_BYTES = 64 * 1024 * 1024;

/** The body is over the limit: answer 413 with `connection: close`. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

/**
 * Reads the whole body; over `limit` bytes (by Content-Length up front, or while streaming) rejects
 * with {@link PayloadTooLargeError} once the rest is read and discarded (up to the bound).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  return new Promise((resolve, reject) => {
    let tooLarge = Number.isFinite(declared) && declared > limit;
    if (tooLarge && declared > MAX_DISCARDED_BODY_BYTES) {
      reject(new PayloadTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!tooLarge && size <= limit) {
        chunks.push(chunk);
        return;
      }
      tooLarge = true;
      chunks.length = 0;
      if (size > MAX_DISCARDED_BODY_BYTES) {
        request.removeAllListeners('data');
        request.pause();
        reject(new PayloadTooLargeError());
      }
    });
    request.on('end', () => (tooLarge ? reject(new PayloadTooLargeError()) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}
