/**
 * The hub's HTTP listeners, two of them, so that what may be exposed is a port of its own:
 *
 * - **loopback** (`PORT`, always 127.0.0.1): everything. AWS API calls (`POST /` with `X-Amz-Target`,
 *   SigV4-checked: `aws-apis.ts`), and the API Gateway side: the topology's webhook and API routes
 *   (route keys with `{name}` path parameters, matched as API Gateway does), `GET /health`,
 *   `GET /local/events`, `GET /local/outbox/<destination>` and the reads the hub adds (`localReads`:
 *   `/local/quarantine`, `/local/raw`). A form-encoded SQS query-protocol call that
 *   matches no route gets SQS's XML error saying that only the JSON protocol is served
 *   (`sqs/query-protocol.ts`). It answers only requests whose `Host` is a loopback name, so a web page
 *   the developer opens cannot reach it by DNS rebinding (421 otherwise).
 * - **webhooks** (`HOST`:`OMNIHUB_WEBHOOK_PORT`): the webhook routes (`POST /webhooks/<connector>`,
 *   each checked by its connector's signature) and `GET /health` (its status only); anything else is a
 *   404, whatever its path or headers. This is the one to tunnel or expose.
 *
 * Why a listener of its own rather than a check per request: a tunnel (ngrok, cloudflared) connects
 * from 127.0.0.1, and the `Host` and `X-Forwarded-*` headers are whatever the sender or the tunnel
 * makes them, so nothing in a request tells a remote caller from a local one. The port it arrived on
 * does.
 *
 * Answers of the hub itself (404, 405, 413, 500, ...) are JSON `{"error": code, "message": ...}` and
 * never carry a stack trace. Where API Gateway answers differently, the hub follows the project's
 * error convention: a handler that throws gets 500 `internal_error` (API Gateway: 500 `{"message":
 * "Internal Server Error"}`), and so does a timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fromLambdaResult,
  MAX_INVOCATION_PAYLOAD_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MalformedLambdaResponseError,
  newApiGatewayRequestId,
  type ReceivedHttpRequest,
  toHttpApiEvent,
} from './apigateway/http-api.ts';
import { type RouteBinding, RouteTable } from './apigateway/routes.ts';
import type { LocalAwsApis } from './aws-apis.ts';
import { ChangeNotifier } from './change-notifier.ts';
import type { EventArchive } from './eventbridge/archive.ts';
import { writeError, writeJson } from './json-response.ts';
import { keepIdleConnectionsOpen } from './keep-alive.ts';
import { serveEventsQuery, serveOutbox } from './local-api.ts';
import { describeError, type HubLogger } from './log.ts';
import { PayloadTooLargeError, readBody } from './request-body.ts';
import { mayBeSqsQueryRequest, sqsQueryAction, writeSqsQueryProtocolError } from './sqs/query-protocol.ts';

export type { RouteBinding } from './apigateway/routes.ts';

export interface HubHttpServerOptions {
  readonly routes: readonly RouteBinding[];
  /** The AWS APIs (EventBridge, SQS, ...), served on the loopback listener only. */
  readonly awsApis: LocalAwsApis;
  readonly archive: EventArchive;
  readonly accountId: string;
  readonly health: () => { readonly status: string };
  readonly log: HubLogger;
  /** Where sync destinations without credentials write their requests (`GET /local/outbox/<destination>`). */
  readonly outboxDir?: string;
  /** More `GET /local/<name>` reads of the hub's own state, by path (loopback listener only). */
  readonly localReads?: Readonly<Record<string, LocalRead>>;
}

/**
 * A `GET /local/...` read of the hub's own state served beside `/local/events` (the quarantine, the
 * raw archive): it gets the raw query string and writes the whole answer.
 */
export type LocalRead = (rawQueryString: string, response: ServerResponse) => Promise<void>;

/** Where the hub listens: {@link HubHttpServer}. Ports may be 0 (any free port). */
export interface HubListeners {
  /** The loopback listener's port (it binds 127.0.0.1 only). */
  readonly port: number;
  /** The webhook listener's interface and port. */
  readonly webhookHost: string;
  readonly webhookPort: number;
}

/** Which requests a listener answers: everything (loopback), or only webhooks and health. */
type Exposure = 'loopback' | 'webhooks';

const LOOPBACK_ADDRESS = '127.0.0.1';
const LOOPBACK_HOST_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a `Host` header names this machine by a loopback name (any port). */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return LOOPBACK_HOST_NAMES.has(name) || name.endsWith('.localhost');
}

/**
 * Whether the event built from this body and these headers could exceed Lambda's payload limit: a
 * bound without serialising the event (base64 makes 4 bytes of 3, JSON escapes at most 6 bytes of
 * one character, and the rest of the event is far under 16 KiB), so only large requests pay for the
 * exact check.
 */
function mayExceedInvocationPayload(body: Buffer, rawHeaders: readonly string[], url: string): boolean {
  // Headers appear up to twice in the event (`headers`, `requestContext`), the URL up to four times.
  let textLength = 4 * url.length;
  for (const part of rawHeaders) textLength += 2 * part.length;
  return 6 * (2 * body.length + textLength) + 16_384 > MAX_INVOCATION_PAYLOAD_BYTES;
}

/** The HTTP listeners of the hub. */
export class HubHttpServer {
  private readonly servers: Readonly<Record<Exposure, Server>>;
  private readonly routes: RouteTable;
  private readonly webhookRoutes: RouteTable;
  private routeRequestsInFlight = 0;
  private readonly routeRequestDone = new ChangeNotifier();
  private acceptingRouteRequests = true;

  constructor(private readonly options: HubHttpServerOptions) {
    this.routes = new RouteTable(options.routes);
    this.webhookRoutes = new RouteTable(options.routes.filter((route) => route.kind === 'webhook'));
    const serverFor = (exposure: Exposure) => {
      const server = createServer((request, response) => {
        this.dispatch(request, response, exposure).catch((error: unknown) => {
          options.log.error(
            `unhandled error for ${request.method} ${request.url?.split('?')[0]}: ${describeError(error)}`,
          );
          if (!response.headersSent)
            writeError(response, 500, 'internal_error', 'The local hub failed to handle the request.');
          else response.destroy();
        });
      });
      keepIdleConnectionsOpen(server);
      return server;
    };
    this.servers = { loopback: serverFor('loopback'), webhooks: serverFor('webhooks') };
  }

  /** Starts both listeners; resolves with their ports (useful with port 0). */
  async listen(listeners: HubListeners): Promise<{ readonly port: number; readonly webhookPort: number }> {
    const listen = (server: Server, host: string, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    const port = await listen(this.servers.loopback, LOOPBACK_ADDRESS, listeners.port);
    try {
      const webhookPort = await listen(this.servers.webhooks, listeners.webhookHost, listeners.webhookPort);
      return { port, webhookPort };
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** New route requests (webhooks, API) get 503 from now on; AWS API calls (from handlers still running) keep working. */
  stopAcceptingRouteRequests(): void {
    this.acceptingRouteRequests = false;
  }

  /** Resolves when no route request is being handled. */
  async routeRequestsFinished(): Promise<void> {
    while (this.routeRequestsInFlight > 0) await this.routeRequestDone.wait(1000);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    await Promise.all(
      Object.values(this.servers).map(
        (server) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private async dispatch(
    request: IncomingMessage,
    response: ServerResponse,
    exposure: Exposure,
  ): Promise<void> {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
    const rawQueryString = queryStart === -1 ? '' : url.slice(queryStart + 1);
    if (exposure === 'webhooks') {
      await this.dispatchWebhook(request, response, rawPath, rawQueryString);
      return;
    }
    if (!isLoopbackHost(request.headers.host)) {
      writeError(
        response,
        421,
        'misdirected_request',
        "This listener of the local hub answers only requests for 127.0.0.1, localhost or [::1]; webhooks from outside go to the hub's webhook listener.",
      );
      return;
    }
    const target = request.headers['x-amz-target'];
    if (request.method === 'POST' && typeof target === 'string' && rawPath === '/') {
      await this.options.awsApis.serve(target, request, response);
      return;
    }
    if (rawPath === '/health') {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      const health = this.options.health();
      writeJson(response, health.status === 'ok' ? 200 : 503, health);
      return;
    }
    if (rawPath.startsWith('/local/outbox/')) {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      await serveOutbox(this.options.outboxDir, rawPath.slice('/local/outbox/'.length), response);
      return;
    }
    if (rawPath === '/local/events') {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      serveEventsQuery(this.options.archive, rawQueryString, response);
      return;
    }
    const reads = this.options.localReads ?? {};
    const localRead = Object.hasOwn(reads, rawPath) ? reads[rawPath] : undefined;
    if (localRead) {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      await localRead(rawQueryString, response);
      return;
    }
    if (await this.routed(this.routes, request, response, rawPath, rawQueryString)) return;
    if (await this.answeredSqsQueryRequest(request, response, rawQueryString)) return;
    writeError(response, 404, 'not_found', `No route for ${request.method} ${rawPath}.`);
  }

  /** The webhook listener: webhook routes and `GET /health`, nothing else whatever the request says. */
  private async dispatchWebhook(
    request: IncomingMessage,
    response: ServerResponse,
    rawPath: string,
    rawQueryString: string,
  ): Promise<void> {
    if (rawPath === '/health') {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      // The status only: the rest of the health report (data directory, queues, endpoints) stays local.
      const { status } = this.options.health();
      writeJson(response, status === 'ok' ? 200 : 503, { status });
      return;
    }
    if (await this.routed(this.webhookRoutes, request, response, rawPath, rawQueryString)) return;
    writeError(
      response,
      404,
      'not_found',
      `No route for ${request.method} ${rawPath}: this listener serves only POST /webhooks/<connector> and GET /health.`,
    );
  }

  /**
   * Hands the request to the route matching its path and method (405 when only the method differs);
   * false when no route has that path.
   */
  private async routed(
    routes: RouteTable,
    request: IncomingMessage,
    response: ServerResponse,
    rawPath: string,
    rawQueryString: string,
  ): Promise<boolean> {
    const match = routes.match(rawPath, request.method);
    if (match === undefined) return false;
    if ('allowed' in match) {
      this.methodNotAllowed(response, rawPath, match.allowed);
      return true;
    }
    await this.handleRoute(match.binding, match.pathParameters, request, response, rawPath, rawQueryString);
    return true;
  }

  /**
   * An SQS query-protocol call (form-encoded `Action=...`, to `/` or a queue URL) gets the XML error its
   * client can read, saying that only the JSON protocol is served; anything else is left to the 404.
   */
  private async answeredSqsQueryRequest(
    request: IncomingMessage,
    response: ServerResponse,
    rawQueryString: string,
  ): Promise<boolean> {
    if (!mayBeSqsQueryRequest(request.method, request.headers['content-type'])) return false;
    let body: Buffer = Buffer.alloc(0);
    if (request.method === 'POST') {
      try {
        body = await readBody(request, MAX_REQUEST_BODY_BYTES);
      } catch (error) {
        if (!(error instanceof PayloadTooLargeError)) throw error;
        writeError(response, 413, 'payload_too_large', 'The request body exceeds 10 MB.', {
          connection: 'close',
        });
        return true;
      }
    }
    const action = sqsQueryAction(body, rawQueryString);
    if (action === undefined) return false;
    writeSqsQueryProtocolError(response, action);
    return true;
  }

  private methodNotAllowed(response: ServerResponse, path: string, allowed: string): void {
    writeError(response, 405, 'method_not_allowed', `${path} accepts only ${allowed}.`, { allow: allowed });
  }

  private async handleRoute(
    binding: RouteBinding,
    pathParameters: Readonly<Record<string, string>>,
    request: IncomingMessage,
    response: ServerResponse,
    rawPath: string,
    rawQueryString: string,
  ): Promise<void> {
    if (!this.acceptingRouteRequests) {
      writeError(response, 503, 'unavailable', 'The local hub is shutting down.', { connection: 'close' });
      return;
    }
    this.routeRequestsInFlight += 1;
    const started = Date.now();
    try {
      let body: Buffer;
      try {
        body = await readBody(request, MAX_REQUEST_BODY_BYTES);
      } catch (error) {
        if (!(error instanceof PayloadTooLargeError)) throw error;
        writeError(
          response,
          413,
          'payload_too_large',
          "The request body exceeds API Gateway's 10 MB limit.",
          {
            connection: 'close',
          },
        );
        return;
      }
      const received: ReceivedHttpRequest = {
        method: request.method ?? 'POST',
        rawPath,
        rawQueryString,
        rawHeaders: request.rawHeaders,
        body,
        sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        protocol: `HTTP/${request.httpVersion}`,
        receivedAt: new Date(),
      };
      const requestId = newApiGatewayRequestId();
      const event = toHttpApiEvent(
        received,
        { ...binding, pathParameters },
        {
          accountId: this.options.accountId,
          requestId,
          port: request.socket.localPort ?? 0,
        },
      );
      if (
        mayExceedInvocationPayload(body, request.rawHeaders, request.url ?? '') &&
        Buffer.byteLength(JSON.stringify(event)) > MAX_INVOCATION_PAYLOAD_BYTES
      ) {
        writeError(
          response,
          413,
          'payload_too_large',
          "The request exceeds Lambda's 6 MB invocation payload limit.",
        );
        return;
      }
      const outcome = await binding.function.invoke(event);
      if (!outcome.ok) {
        this.options.log.error(
          `${binding.method} ${rawPath}: handler failed: ${describeError(outcome.error)}`,
        );
        const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        writeError(response, 500, 'internal_error', message, { 'apigw-requestid': requestId });
        return;
      }
      let result: ReturnType<typeof fromLambdaResult>;
      try {
        result = fromLambdaResult(outcome.result);
      } catch (error) {
        if (!(error instanceof MalformedLambdaResponseError)) throw error;
        this.options.log.error(`${binding.method} ${rawPath}: malformed handler response: ${error.message}`);
        writeError(response, 500, 'internal_error', `Malformed Lambda proxy response: ${error.message}`);
        return;
      }
      response.statusCode = result.statusCode;
      for (const [name, value] of Object.entries(result.headers)) {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') {
          response.setHeader(name, value);
        }
      }
      if (result.cookies.length > 0) response.setHeader('set-cookie', [...result.cookies]);
      response.setHeader('apigw-requestid', requestId);
      response.setHeader('content-length', result.body.length);
      response.end(result.body);
      this.options.log.info(
        `${binding.method} ${rawPath} -> ${result.statusCode} in ${Date.now() - started} ms`,
      );
    } finally {
      this.routeRequestsInFlight -= 1;
      this.routeRequestDone.notify();
    }
  }
}
