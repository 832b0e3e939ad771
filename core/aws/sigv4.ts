/**
 * AWS Signature Version 4 with node:crypto: what `AwsJsonClient` (json-client.ts) signs its calls with, and what
 * a server that knows the secret recomputes to check a signature (the local hub's AWS APIs do). Checked
 * against the SDK's own signer (`@smithy/signature-v4`) in `json-client.test.ts`.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentials } from './json-client.ts';

export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentials;
  readonly now: Date;
}

/** Hex SHA-256 of a body (a string as UTF-8): SigV4's payload hash. */
export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmacOf = (key: string | Buffer, data: string) =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Signing keys by day, region, service and secret: a key changes only when one of them does, so
 * derive it once (the SDK caches it too). Bounded: a few services, rotated credentials.
 */
const signingKeys = new Map<string, Buffer>();

function signingKeyOf(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${day}\n${region}\n${service}\n${secret}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size >= 16) signingKeys.clear();
    key = hmacOf(hmacOf(hmacOf(hmacOf(`AWS4${secret}`, day), region), service), 'aws4_request');
    signingKeys.set(id, key);
  }
  return key;
}

/** What SigV4 signs of a request, already in canonical form. */
export interface CanonicalRequest {
  readonly method: string;
  /** The canonical URI (`/` for the JSON protocols, which post to the endpoint's root). */
  readonly path: string;
  /** The canonical query string; empty for the JSON protocols. */
  readonly query: string;
  /** Exactly the signed headers: lower-case names, values as sent. */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body ({@link sha256Hex}). */
  readonly payloadHash: string;
}

/** A SigV4 signature and what the `Authorization` header says about it. */
export interface SigV4Signature {
  /** `<day>/<region>/<service>/aws4_request` */
  readonly scope: string;
  /** The signed header names, sorted, `;`-separated. */
  readonly signedHeaders: string;
  /** Hex HMAC-SHA256 of the string to sign. */
  readonly signature: string;
}

/**
 * The SigV4 signature of a canonical request made at `amzDate` (`YYYYMMDDTHHMMSSZ`): what a client puts
 * in `Authorization`, and what a server that knows the secret recomputes to check it.
 *
 * @example
 * sigV4Signature({ method: 'POST', path: '/', query: '', headers, payloadHash: sha256Hex(body) },
 *   '20250304T050607Z', { region: 'eu-west-1', service: 'events' }, secretAccessKey);
 */
export function sigV4Signature(
  request: CanonicalRequest,
  amzDate: string,
  scope: { readonly region: string; readonly service: string },
  secretAccessKey: string,
): SigV4Signature {
  const day = amzDate.slice(0, 8);
  const names = Object.keys(request.headers).sort();
  const canonicalHeaders = names.map(
    (name) => `${name}:${String(request.headers[name]).trim().replace(/\s+/g, ' ')}\n`,
  );
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path,
    request.query,
    canonicalHeaders.join(''),
    signedHeaders,
    request.payloadHash,
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = signingKeyOf(secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  return { scope: credentialScope, signedHeaders, signature };
}

/**
 * AWS Signature Version 4 for a request without a query string (the JSON protocols POST to `/`).
 * Returns every header to send: the given ones plus host, content-length, x-amz-date,
 * x-amz-security-token (temporary credentials) and authorization, all of them signed.
 */
export function signRequest(request: SignableRequest): Record<string, string> {
  const amzDate = request.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    'x-amz-date': amzDate,
    'content-length': String(Buffer.byteLength(request.body)),
  };
  if (request.credentials.sessionToken) headers['x-amz-security-token'] = request.credentials.sessionToken;
  const { scope, signedHeaders, signature } = sigV4Signature(
    {
      method: request.method,
      path: request.url.pathname || '/',
      query: '',
      headers,
      payloadHash: sha256Hex(request.body),
    },
    amzDate,
    { region: request.region, service: request.service },
    request.credentials.secretAccessKey,
  );
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
