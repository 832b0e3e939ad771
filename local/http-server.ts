/**
 * The hub's single HTTP listener. Requests carrying `X-Amz-Target` are AWS API calls (EventBridge,
 * SQS, Firehose); everything else is the API Gateway side: the topology's webhook and API routes (route keys
 * with `{name}` path parameters, matched as API Gateway does), `GET /health` and `GET /local/events`.
 * A form-encoded SQS query-protocol call that matches no route gets SQS's XML error saying that only
 * the JSON protocol is served (`sqs/query-protocol.ts`).
 *
 * Answers of the hub itself (404, 405, 413, 500, ...) are JSON `{"error": code, "message": ...}` and
 * never carry a stack trace. Where API Gateway answers differently, the hub follows the project's
 * error convention: a handler that throws gets 500 `internal_error` (API Gateway: 500 `{"message":
 * "Internal Server Error"}`), and so does a timeout.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  fromLambdaResult,
  MAX_INVOCATION_PAYLOAD_BYTES,
  MAX_REQUEST_BODY_BYTES,
  MalformedLambdaResponseError,
  newApiGatewayRequestId,
  type ReceivedHttpRequest,
  toHttpApiEvent,
} from './apigateway/http-api.ts';
import {
  type AwsJsonVersion,
  AwsServiceError,
  parseJsonRequest,
  writeAwsJsonError,
  writeAwsJsonResult,
} from './aws-json-protocol.ts';
import { ChangeNotifier } from './change-notifier.ts';
import type { EventBridgeApi } from './eventbridge/api.ts';
import type { EventArchive } from './eventbridge/archive.ts';
import type { FirehoseApi } from './firehose/api.ts';
import { keepIdleConnectionsOpen } from './keep-alive.ts';
import type { LocalFunction } from './lambda/local-function.ts';
import { describeError, type HubLogger } from './log.ts';
import type { SqsApi } from './sqs/api.ts';
import { mayBeSqsQueryRequest, sqsQueryAction, writeSqsQueryProtocolError } from './sqs/query-protocol.ts';

/**
 * A `GET /local/...` read of the hub's own state served beside `/local/events` (the quarantine, the
 * raw archive): it gets the raw query string and writes the whole answer.
 */
export type LocalRead = (rawQueryString: string, response: ServerResponse) => Promise<void>;

/** A route (webhook or API) bound to its function. */
export interface RouteBinding {
  readonly method: string;
  /** API Gateway route path: literal segments and `{name}` parameters, e.g. `/profiles/{profileId}`. */
  readonly path: string;
  /** The connector (webhook routes) or API function id it serves. */
  readonly target: string;
  readonly function: LocalFunction;
}

interface CompiledRoute {
  readonly binding: RouteBinding;
  readonly pattern: RegExp;
  readonly parameters: readonly string[];
  /** Literal segments count more: API Gateway prefers `/a/b` over `/a/{x}`. */
  readonly specificity: number;
}

function compileRoute(binding: RouteBinding): CompiledRoute {
  const parameters: string[] = [];
  let specificity = 0;
  const source = binding.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (parameter?.[1]) {
        parameters.push(parameter[1]);
        return '([^/]+)';
      }
      specificity++;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { binding, pattern: new RegExp(`^${source}$`), parameters, specificity };
}

function decodePathParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export interface HubHttpServerOptions {
  readonly routes: readonly RouteBinding[];
  readonly eventBridge: EventBridgeApi;
  readonly sqs: SqsApi;
  /** The raw archive's Firehose streams. */
  readonly firehose?: FirehoseApi;
  readonly archive: EventArchive;
  readonly accountId: string;
  readonly health: () => { readonly status: string };
  readonly log: HubLogger;
  /** Where sync destinations without credentials write their requests (`GET /local/outbox/<destination>`). */
  readonly outboxDir?: string;
  /** More `GET /local/<name>` reads, by path. */
  readonly localReads?: Readonly<Record<string, LocalRead>>;
}

const EVENTS_DEFAULT_LIMIT = 100;
const EVENTS_MAX_LIMIT = 1000;

class PayloadTooLargeError extends Error {}

function writeJson(
  response: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function writeError(
  response: ServerResponse,
  statusCode: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeJson(response, statusCode, { error, message }, headers);
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

/** Reads the whole body, refusing more than `limit` bytes (by Content-Length up front, or while streaming). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.pause();
        reject(new PayloadTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The HTTP server of the hub. */
export class HubHttpServer {
  private readonly server: Server;
  private readonly routes: readonly CompiledRoute[];
  private routeRequestsInFlight = 0;
  private readonly routeRequestDone = new ChangeNotifier();
  private acceptingRouteRequests = true;
  private port = 0;

  constructor(private readonly options: HubHttpServerOptions) {
    this.routes = options.routes.map(compileRoute).sort((a, b) => b.specificity - a.specificity);
    this.server = createServer((request, response) => {
      this.dispatch(request, response).catch((error: unknown) => {
        options.log.error(
          `unhandled error for ${request.method} ${request.url?.split('?')[0]}: ${describeError(error)}`,
        );
        if (!response.headersSent)
          writeError(response, 500, 'internal_error', 'The local hub failed to handle the request.');
        else response.destroy();
      });
    });
    keepIdleConnectionsOpen(this.server);
  }

  /** Starts listening; resolves with the port (useful with port 0). */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
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
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const rawPath = queryStart === -1 ? url : url.slice(0, queryStart);
    const rawQueryString = queryStart === -1 ? '' : url.slice(queryStart + 1);
    const target = request.headers['x-amz-target'];
    if (request.method === 'POST' && typeof target === 'string') {
      await this.handleAwsApi(target, request, response);
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
      await this.handleOutbox(rawPath.slice('/local/outbox/'.length), response);
      return;
    }
    if (rawPath === '/local/events') {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      this.handleEventsQuery(rawQueryString, response);
      return;
    }
    const reads = this.options.localReads ?? {};
    const localRead = Object.hasOwn(reads, rawPath) ? reads[rawPath] : undefined;
    if (localRead) {
      if (request.method !== 'GET') return this.methodNotAllowed(response, rawPath, 'GET');
      await localRead(rawQueryString, response);
      return;
    }
    const matching = this.routes
      .map((route) => ({ route, match: route.pattern.exec(rawPath) }))
      .filter((candidate) => candidate.match !== null);
    if (matching.length === 0) {
      if (await this.answeredSqsQueryRequest(request, response, rawQueryString)) return;
      writeError(response, 404, 'not_found', `No route for ${request.method} ${rawPath}.`);
      return;
    }
    const chosen = matching.find((candidate) => candidate.route.binding.method === request.method);
    if (!chosen?.match) {
      const allowed = [...new Set(matching.map((candidate) => candidate.route.binding.method))].join(', ');
      return this.methodNotAllowed(response, rawPath, allowed);
    }
    const pathParameters: Record<string, string> = {};
    chosen.route.parameters.forEach((name, index) => {
      pathParameters[name] = decodePathParameter(chosen.match?.[index + 1] ?? '');
    });
    await this.handleRoute(chosen.route.binding, pathParameters, request, response, rawPath, rawQueryString);
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

  private async handleAwsApi(
    target: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const [service, operation = ''] = target.split('.', 2);
    const version: AwsJsonVersion = service === 'AmazonSQS' ? '1.0' : '1.1';
    const namespace = service === 'AmazonSQS' ? 'com.amazonaws.sqs' : undefined;
    try {
      const input = parseJsonRequest(await readBody(request, MAX_REQUEST_BODY_BYTES));
      let result: unknown;
      if (service === 'AWSEvents') result = await this.options.eventBridge.handle(operation, input);
      else if (service === 'AmazonSQS') result = await this.options.sqs.handle(operation, input);
      else if (service === 'Firehose_20150804' && this.options.firehose)
        result = await this.options.firehose.handle(operation, input);
      else throw new AwsServiceError('UnknownOperationException', `The local hub does not serve ${target}.`);
      writeAwsJsonResult(response, version, result);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        writeAwsJsonError(
          response,
          version,
          new AwsServiceError('RequestEntityTooLarge', 'Request too large.', 413),
          namespace,
        );
        return;
      }
      if (error instanceof AwsServiceError) {
        writeAwsJsonError(response, version, error, namespace);
        return;
      }
      this.options.log.error(`${target} failed: ${describeError(error)}`);
      writeAwsJsonError(
        response,
        version,
        new AwsServiceError('InternalFailure', 'The local hub failed to process the request.', 500),
        namespace,
      );
    }
  }

  /** What a sync destination without credentials would have sent, oldest first. */
  private async handleOutbox(destination: string, response: ServerResponse): Promise<void> {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(destination)) {
      writeError(
        response,
        400,
        'bad_request',
        'The destination is a connector id, e.g. /local/outbox/hubspot.',
      );
      return;
    }
    let text = '';
    try {
      if (this.options.outboxDir)
        text = await readFile(join(this.options.outboxDir, `${destination}.jsonl`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const requests = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as unknown);
    writeJson(response, 200, { destination, count: requests.length, requests });
  }

  private handleEventsQuery(rawQueryString: string, response: ServerResponse): void {
    const parameters = new URLSearchParams(rawQueryString);
    const unknown = [...parameters.keys()].filter((name) => !['type', 'since', 'limit'].includes(name));
    if (unknown.length > 0) {
      writeError(response, 400, 'bad_request', `Unknown parameter ${unknown[0]}; use type, since, limit.`);
      return;
    }
    const type = parameters.get('type') ?? undefined;
    const sinceText = parameters.get('since');
    const since = sinceText === null ? undefined : Date.parse(sinceText);
    if (since !== undefined && (Number.isNaN(since) || !/^\d{4}-\d{2}-\d{2}T/.test(sinceText ?? ''))) {
      writeError(
        response,
        400,
        'bad_request',
        'since must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z.',
      );
      return;
    }
    const limitText = parameters.get('limit');
    const limit = limitText === null ? EVENTS_DEFAULT_LIMIT : Number(limitText);
    if (
      !Number.isInteger(limit) ||
      limit < 1 ||
      limit > EVENTS_MAX_LIMIT ||
      !/^\d+$/.test(limitText ?? '100')
    ) {
      writeError(response, 400, 'bad_request', `limit must be an integer from 1 to ${EVENTS_MAX_LIMIT}.`);
      return;
    }
    const { events, truncated } = this.options.archive.query({ detailType: type, since, limit });
    writeJson(response, 200, { events, count: events.length, truncated });
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
          port: this.port,
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
