/**
 * How long the hub's listeners (its HTTP API and dynalite) keep an idle keep-alive connection open.
 *
 * Node's default (announced as `Keep-Alive: timeout=5`, closed after 6 s) races with pooled clients:
 * a client whose event loop is busy when the server closes an idle socket has not yet seen the
 * close, reuses the socket, and its request fails with ECONNRESET. Node's own `http.Agent` honours
 * the server's hint only when it was given a `timeout` of its own, and neither the AWS SDK's agents
 * nor ours are (those retry a reset, as the SDK does). One connection error in about 30,000
 * requests of the load benchmark was most likely this. 65 s is what load balancers use (ALB's 60 s
 * idle timeout plus a margin): clients drop or reuse an idle socket long before the hub closes it.
 * Stopping the hub still closes idle connections at once (`closeAllConnections`).
 */
import type { Server } from 'node:http';

export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Applies {@link KEEP_ALIVE_TIMEOUT_MS}; the headers timeout must outlast it, or Node closes first. */
export function keepIdleConnectionsOpen(server: Server): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
}
