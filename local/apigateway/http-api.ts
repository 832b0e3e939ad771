/**
 * API Gateway HTTP API with a Lambda proxy integration, payload format 2.0: the request event built
 * from the raw HTTP request, and the Lambda result turned back into an HTTP response.
 *
 * `isBase64Encoded`: AWS documents only that binary bodies are base64-encoded, without saying which
 * content types count as text. Measured against real HTTP APIs (payload 2.0), the body arrives as a
 * UTF-8 string only for `text/*`, `application/json`, `application/xml` and `application/javascript`;
 * every other type, `application/x-www-form-urlencoded` and a missing `Content-Type` included, arrives
 * base64-encoded. The hub does the same, with one deliberate exception: a "text" body that is not
 * valid UTF-8 is base64-encoded too, so the handler still gets the exact bytes (API Gateway would
 * mangle them, and a signature check over them would fail for the wrong reason).
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** API Gateway's payload limit for HTTP APIs (10 MB), answered with 413 above it. */
export const MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's limit on a synchronous invocation's request payload (6 MB): the event JSON must fit. */
export const MAX_INVOCATION_PAYLOAD_BYTES = 6 * 1024 * 1024;

const TEXT_MEDIA_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/** The media type of a Content-Type value, lower case, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType ? mediaType : undefined;
}

/** Whether API Gateway (HTTP API, payload 2.0) passes a body of this Content-Type as a UTF-8 string. */
export function isTextMediaType(contentType: string | undefined): boolean {
  const mediaType = mediaTypeOf(contentType);
  return mediaType !== undefined && (mediaType.startsWith('text/') || TEXT_MEDIA_TYPES.has(mediaType));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8OrUndefined(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The body and flag API Gateway would put in the event for these bytes and Content-Type. */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (isTextMediaType(contentType)) {
    const text = utf8OrUndefined(body);
    if (text !== undefined) return { body: text, isBase64Encoded: false };
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** A request as the hub's HTTP server received it. */
export interface ReceivedHttpRequest {
  readonly method: string;
  /** Path exactly as sent, without the query string. */
  readonly rawPath: string;
  /** Query string exactly as sent, without `?`; empty when none. */
  readonly rawQueryString: string;
  /** Node's `rawHeaders`: names and values alternating, in arrival order, duplicates kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly protocol: string;
  readonly receivedAt: Date;
}

export interface HttpApiRoute {
  readonly method: string;
  readonly path: string;
  /** Values of the route's `{name}` segments, percent-decoded. */
  readonly pathParameters?: Readonly<Record<string, string>>;
}

/** Lower-cased header names; repeated headers joined with `,` as API Gateway does (not `, ` as Node does). */
export function joinHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] ?? '').toLowerCase();
    const value = rawHeaders[index + 1] ?? '';
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return headers;
}

function decodeQueryComponent(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

/** `queryStringParameters`: values percent-decoded, repeated keys joined with `,`. */
export function parseQueryString(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const parameters: Record<string, string> = {};
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const name = decodeQueryComponent(separator === -1 ? pair : pair.slice(0, separator));
    const value = separator === -1 ? '' : decodeQueryComponent(pair.slice(separator + 1));
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time`: CLF format, `12/Mar/2020:19:03:58 +0000`. */
export function requestTime(instant: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(instant.getUTCDate())}/${MONTHS[instant.getUTCMonth()]}/${instant.getUTCFullYear()}:${pad(instant.getUTCHours())}:${pad(instant.getUTCMinutes())}:${pad(instant.getUTCSeconds())} +0000`;
}

const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolOffset = 0;

/**
 * `size` random bytes from a pool refilled 4 KiB at a time: one `randomBytes` call per request
 * showed in the hub's profile (as `crypto.randomUUID` pools for the same reason).
 */
function pooledRandomBytes(size: number): Buffer {
  if (randomPoolOffset + size > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomPoolOffset = 0;
  }
  randomPoolOffset += size;
  return randomPool.subarray(randomPoolOffset - size, randomPoolOffset);
}

/** An API Gateway request id: 16 characters like `JKJaXmPLvHcESHA=`. */
export function newApiGatewayRequestId(): string {
  return pooledRandomBytes(11).toString('base64');
}

function newTraceId(instant: Date): string {
  const epochSeconds = Math.floor(instant.getTime() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epochSeconds}-${pooledRandomBytes(12).toString('hex')}`;
}

/**
 * Builds the payload-2.0 event API Gateway sends to the Lambda of `route`.
 *
 * @example
 * const event = toHttpApiEvent(request, { method: 'POST', path: '/webhooks/shopify' }, { accountId, requestId, port });
 */
export function toHttpApiEvent(
  request: ReceivedHttpRequest,
  route: HttpApiRoute,
  context: { readonly accountId: string; readonly requestId: string; readonly port: number },
): APIGatewayProxyEventV2 {
  const headers = joinHeaders(request.rawHeaders);
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  // Headers API Gateway adds on the way in.
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']},${request.sourceIp}`
    : request.sourceIp;
  headers['x-forwarded-port'] ??= String(context.port);
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= newTraceId(request.receivedAt);
  const host = headers.host ?? `127.0.0.1:${context.port}`;
  const domainName = host.replace(/:\d+$/, '');
  const cookies = cookieHeader
    ?.split(';')
    .map((cookie) => cookie.trim())
    .filter((cookie) => cookie.length > 0);
  const queryStringParameters = parseQueryString(request.rawQueryString);
  const routeKey = `${route.method} ${route.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(route.pathParameters && Object.keys(route.pathParameters).length > 0
      ? { pathParameters: { ...route.pathParameters } }
      : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method,
        path: request.rawPath,
        protocol: request.protocol,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey,
      stage: '$default',
      time: requestTime(request.receivedAt),
      timeEpoch: request.receivedAt.getTime(),
    },
    ...encodeBody(request.body, headers['content-type']),
  };
}

/** The HTTP response API Gateway sends back to the client. */
export interface HttpApiResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Each becomes one `set-cookie` header. */
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/** The Lambda returned something API Gateway cannot turn into a response (API Gateway answers 500). */
export class MalformedLambdaResponseError extends Error {
  override readonly name = 'MalformedLambdaResponseError';
}

const JSON_CONTENT_TYPE = { 'content-type': 'application/json' } as const;

/**
 * Payload 2.0 response rules: an object with `statusCode` is a structured response (`headers`,
 * `cookies`, `body`, `isBase64Encoded`); anything else is taken as the body of a 200 JSON response (a
 * string as is, other values JSON-serialised, nothing as an empty body).
 */
export function fromLambdaResult(result: unknown): HttpApiResponse {
  if (result === undefined || result === null) {
    return { statusCode: 200, headers: JSON_CONTENT_TYPE, cookies: [], body: Buffer.alloc(0) };
  }
  if (typeof result === 'string') {
    return { statusCode: 200, headers: JSON_CONTENT_TYPE, cookies: [], body: Buffer.from(result, 'utf8') };
  }
  if (typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return {
      statusCode: 200,
      headers: JSON_CONTENT_TYPE,
      cookies: [],
      body: Buffer.from(JSON.stringify(result), 'utf8'),
    };
  }
  const structured = result as Record<string, unknown>;
  const statusCode = structured.statusCode;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    throw new MalformedLambdaResponseError(`statusCode must be an integer between 100 and 599`);
  }
  const headers: Record<string, string> = {};
  if (structured.headers !== undefined && structured.headers !== null) {
    if (typeof structured.headers !== 'object' || Array.isArray(structured.headers)) {
      throw new MalformedLambdaResponseError('headers must be an object');
    }
    for (const [name, value] of Object.entries(structured.headers)) {
      if (value === undefined || value === null) continue;
      if (typeof value === 'object')
        throw new MalformedLambdaResponseError(`header ${name} must be a string`);
      headers[name.toLowerCase()] = String(value);
    }
  }
  headers['content-type'] ??= 'application/json';
  const cookies = structured.cookies ?? [];
  if (!Array.isArray(cookies) || cookies.some((cookie) => typeof cookie !== 'string')) {
    throw new MalformedLambdaResponseError('cookies must be a list of strings');
  }
  const body = structured.body ?? '';
  if (typeof body !== 'string') throw new MalformedLambdaResponseError('body must be a string');
  return {
    statusCode,
    headers,
    cookies: cookies as string[],
    body: structured.isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}
