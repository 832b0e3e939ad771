/**
 * SigV4 in front of dynalite, which checks only that a request carries something that looks like a
 * signature: the hub's DynamoDB endpoint answers only requests signed with the hub's credentials, like
 * its other AWS APIs (`../aws-signature.ts`), with DynamoDB's errors (`com.amazon.coral.service#...`,
 * HTTP 400). The body is read first (the signature covers its hash) and handed on to dynalite as it
 * came.
 *
 * dynalite also answers any web page (`Access-Control-Allow-Origin: *`); requests from a browser (with
 * an `Origin` header) are refused here, since the hub's credentials are no secret.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { AwsCredentials } from '../../core/aws/json-client.ts';
import { signatureError } from '../aws-json-protocol.ts';
import { checkAwsSignature } from '../aws-signature.ts';
import { PayloadTooLargeError, readBody } from '../request-body.ts';

/** dynalite's own limit. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const SIGNING_NAME = 'dynamodb';

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amz-crc32': String(crc32(text)),
    'x-amzn-requestid': randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0'),
  });
  response.end(text);
}

/** The request again, its body readable once more, for the listeners behind the check. */
function replayable(request: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = Readable.from(body.length > 0 ? [body] : []);
  return Object.assign(replay, {
    method: request.method,
    url: request.url,
    headers: request.headers,
    rawHeaders: request.rawHeaders,
    httpVersion: request.httpVersion,
    socket: request.socket,
  }) as unknown as IncomingMessage;
}

async function check(
  listeners: readonly ((...args: unknown[]) => void)[],
  server: Server,
  credentials: AwsCredentials,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.headers.origin !== undefined) {
    send(response, 403, {
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: "The local hub's DynamoDB does not answer web pages.",
    });
    return;
  }
  let body: Buffer;
  try {
    body = await readBody(request, MAX_REQUEST_BYTES);
  } catch (error) {
    if (!(error instanceof PayloadTooLargeError)) throw error;
    response.setHeader('connection', 'close');
    send(response, 413, { __type: 'com.amazon.coral.service#RequestEntityTooLarge', message: '' });
    return;
  }
  const rejection = checkAwsSignature(
    { method: request.method ?? 'POST', url: request.url ?? '/', rawHeaders: request.rawHeaders, body },
    SIGNING_NAME,
    credentials,
  );
  if (rejection) {
    const error = signatureError(rejection, 'json');
    send(response, error.statusCode, {
      __type: `com.amazon.coral.service#${error.code}`,
      message: error.message,
    });
    return;
  }
  const replay = replayable(request, body);
  for (const listener of listeners) listener.call(server, replay, response);
}

/**
 * Puts the signature check in front of every listener `server` has now (dynalite, and the TTL
 * operations answered in front of it): apply it last. `GET /` (DynamoDB's health answer) stays open.
 *
 * @example
 * requireSignatures(server, LOCAL_HUB_CREDENTIALS);
 */
export function requireSignatures(server: Server, credentials: AwsCredentials): void {
  const listeners = server.listeners('request') as ((...args: unknown[]) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET' && request.headers.origin === undefined) {
      for (const listener of listeners) listener.call(server, request, response);
      return;
    }
    check(listeners, server, credentials, request, response).catch(() => {
      if (!response.headersSent) {
        send(response, 500, {
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: 'The local hub failed to read the request.',
        });
      } else response.destroy();
    });
  });
}
