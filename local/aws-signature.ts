/**
 * SigV4 checked on the hub's side: its AWS APIs (EventBridge, SQS, and DynamoDB through dynalite) answer
 * only requests signed with the hub's own credentials, which its handlers, the CLI and the tests sign
 * with. The signature is recomputed with the client's signing code (`sigV4Signature` of
 * `core/aws/sigv4.ts`) over the request as received: method, path, query, the headers the client
 * says it signed, and the hash of the body's bytes.
 *
 * The checks run in the order DynamoDB's front end applies them (as dynalite records it), and a refusal
 * says which one failed in the words AWS uses: no `Authorization` header; a malformed one (a missing
 * `Credential`, `SignedHeaders` or `Signature`, no `X-Amz-Date`, another algorithm, a credential that
 * is not `key/day/region/service/aws4_request`); a date more than 15 minutes off; `Host` not signed; a
 * scope for another service or day; an unknown access key; a signature that does not match.
 *
 * Differences: `X-Amz-Target` must be signed, since it names the operation (AWS does not insist).
 * The scope's region is not held against the hub's: the signature is checked for the region the client
 * names, since the hub serves one region and local tools sign with the region of their own shell
 * (AWS answers a wrong region with `InvalidSignatureException`). Query-string signatures (presigned
 * URLs) are not accepted.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AwsCredentials } from '../core/aws/json-client.ts';
import { type CanonicalRequest, sha256Hex, sigV4Signature } from '../core/aws/sigv4.ts';

/** Why a request was refused, by the kind of error AWS answers with. */
export interface SignatureRejection {
  /**
   * `missing`: no signature at all; `incomplete`: a malformed one; `invalid`: it does not verify (or
   * is out of date or scope); `unrecognized`: signed with an access key (or token) the hub does not know.
   */
  readonly kind: 'missing' | 'incomplete' | 'invalid' | 'unrecognized';
  readonly message: string;
}

/** A request as the hub received it. */
export interface ReceivedAwsRequest {
  readonly method: string;
  /** The request target as sent: path and query string, still percent-encoded. */
  readonly url: string;
  /** Node's `rawHeaders`: names and values, alternating, repeats kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** How far a request's date may be from the hub's clock, as on AWS. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const missing = (): SignatureRejection => ({
  kind: 'missing',
  message: 'Request is missing Authentication Token',
});
const incomplete = (message: string): SignatureRejection => ({ kind: 'incomplete', message });
const invalid = (message: string): SignatureRejection => ({ kind: 'invalid', message });
const unrecognized = (): SignatureRejection => ({
  kind: 'unrecognized',
  message: 'The security token included in the request is invalid.',
});

/** Lower-case header names to their values, repeats joined by `,` as SigV4 canonicalises them. */
function headersOf(rawHeaders: readonly string[]): Map<string, string> {
  const headers = new Map<string, string>();
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = (rawHeaders[index] ?? '').toLowerCase();
    const value = rawHeaders[index + 1] ?? '';
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return headers;
}

/** `encodeURIComponent` plus the characters SigV4 also escapes (RFC 3986 unreserved stay as they are). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The canonical URI as the SDK's signer builds it for every service but S3: `.` and `..` segments
 * resolved, empty ones dropped, and the path as sent escaped once more.
 */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return escapeUri(`/${segments.join('/')}${trailing}`).replace(/%2F/g, '/');
}

function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The canonical query string: every parameter escaped, sorted by name and then value. */
function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      return [escapeUri(decodeQueryPart(name)), escapeUri(decodeQueryPart(value))] as const;
    })
    .sort(([nameA, valueA], [nameB, valueB]) =>
      nameA === nameB ? (valueA < valueB ? -1 : 1) : nameA < nameB ? -1 : 1,
    )
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** `Credential=...`, `SignedHeaders=...`, `Signature=...` of an `Authorization` header. */
function authorizationParameters(rest: string): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const part of rest.split(/[,\s]+/)) {
    const equals = part.indexOf('=');
    if (equals > 0) parameters.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return parameters;
}

function epochOfAmzDate(amzDate: string): number {
  const [, year, month, day, hour, minute, second] = AMZ_DATE.exec(amzDate) ?? [];
  return Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
}

function amzDateOf(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Whether `request` is SigV4-signed for `service` (the signing name: `events`, `sqs`, `dynamodb`)
 * with `credentials`: undefined when it is, else why not.
 *
 * @example
 * const rejection = checkAwsSignature(received, 'events', LOCAL_HUB_CREDENTIALS);
 * if (rejection) answerWith(signatureError(rejection, 'json'));
 */
export function checkAwsSignature(
  request: ReceivedAwsRequest,
  service: string,
  credentials: AwsCredentials,
  now: number = Date.now(),
): SignatureRejection | undefined {
  const headers = headersOf(request.rawHeaders);
  const queryStart = request.url.indexOf('?');
  const rawPath = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : request.url.slice(queryStart + 1);
  const authorization = headers.get('authorization')?.trim();
  if (authorization === undefined || !authorization.startsWith('AWS4-')) {
    return /(?:^|&)X-Amz-Algorithm=/.test(rawQuery)
      ? incomplete('The local hub accepts SigV4 in the Authorization header only, not in the query string.')
      : missing();
  }

  const [algorithm = '', ...rest] = authorization.split(/\s+/);
  const parameters = authorizationParameters(rest.join(' '));
  const absent = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !parameters.get(name));
  const amzDate = headers.get('x-amz-date');
  if (absent.length > 0 || amzDate === undefined) {
    return incomplete(
      [
        ...absent.map((name) => `Authorization header requires '${name}' parameter.`),
        ...(amzDate === undefined ? ["Authorization header requires an 'X-Amz-Date' header."] : []),
      ].join(' '),
    );
  }
  if (!AMZ_DATE.test(amzDate)) {
    return incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  const signedAt = epochOfAmzDate(amzDate);
  if (signedAt < now - MAX_CLOCK_SKEW_MS) {
    return invalid(
      `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - MAX_CLOCK_SKEW_MS)} (${amzDateOf(now)} - 15 min.)`,
    );
  }
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    return invalid(
      `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_CLOCK_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`,
    );
  }
  const signedHeaders = (parameters.get('SignedHeaders') ?? '').toLowerCase().split(';');
  if (!signedHeaders.includes('host')) {
    return invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (headers.has('x-amz-target') && !signedHeaders.includes('x-amz-target')) {
    return invalid("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (algorithm !== ALGORITHM) {
    return incomplete(`Unsupported AWS 'algorithm': '${algorithm}' (only ${ALGORITHM} for now). `);
  }
  const credential = (parameters.get('Credential') ?? '').replace(/\/+$/, '');
  const scope = credential.split('/');
  if (scope.length !== 5) {
    return incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId = '', day = '', region = '', scopeService = '', terminator = ''] = scope;
  const scopeProblems = [
    ...(region === '' ? [`Credential should be scoped to a valid region, not '${region}'.`] : []),
    ...(scopeService === service ? [] : [`Credential should be scoped to correct service: '${service}'.`]),
    ...(terminator === 'aws4_request'
      ? []
      : [`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`]),
    ...(day === amzDate.slice(0, 8)
      ? []
      : [
          `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
        ]),
  ];
  if (scopeProblems.length > 0) return invalid(scopeProblems.join(' '));
  if (!sameText(accessKeyId, credentials.accessKeyId)) return unrecognized();

  const canonical: CanonicalRequest = {
    method: request.method,
    path: canonicalPath(rawPath),
    query: canonicalQuery(rawQuery),
    headers: Object.fromEntries(signedHeaders.map((name) => [name, headers.get(name) ?? ''])),
    payloadHash: sha256Hex(request.body),
  };
  const expected = sigV4Signature(canonical, amzDate, { region, service }, credentials.secretAccessKey);
  if (!sameText(expected.signature, parameters.get('Signature') ?? '')) {
    return invalid(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  const token = headers.get('x-amz-security-token');
  if ((token ?? '') !== (credentials.sessionToken ?? '')) return unrecognized();
  return undefined;
}
