/**
 * The AWS JSON protocol as the SDK v3 speaks it to EventBridge (JSON 1.1) and SQS (JSON 1.0):
 * `POST /` with `X-Amz-Target: <ServicePrefix>.<Operation>`, a JSON body, and on failure an HTTP 4xx/5xx
 * with `{"__type": ..., "message": ...}`.
 *
 * Every call must be SigV4-signed with the hub's own credentials (`aws-signature.ts`); a refusal is
 * answered with the error each service's protocol uses for it ({@link signatureError}).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SignatureRejection } from './aws-signature.ts';

export type AwsJsonVersion = '1.0' | '1.1';

/** An error answered in the AWS JSON error format. */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';

  /**
   * @param code the error shape name, e.g. `ValidationException`, `QueueDoesNotExist`
   * @param statusCode the HTTP status AWS answers with for this error
   * @param queryErrorCode SQS only: the legacy query-protocol code sent in `x-amzn-query-error`, which
   *   the SDK (awsQueryCompatible) uses to pick the error class, e.g. `AWS.SimpleQueueService.NonExistentQueue`
   */
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
    readonly queryErrorCode?: string,
  ) {
    super(message);
  }
}

/** A JSON object parsed from a request body, or an `AwsServiceError` the caller can answer with. */
export function parseJsonRequest(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsServiceError('SerializationException', 'Request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsServiceError('SerializationException', 'Request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Writes a successful AWS JSON response. */
export function writeAwsJsonResult(response: ServerResponse, version: AwsJsonVersion, result: unknown): void {
  const body = JSON.stringify(result ?? {});
  response.writeHead(200, {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

/**
 * Writes an AWS JSON error. `typeNamespace` prefixes `__type` the way the service does (SQS answers
 * `com.amazonaws.sqs#QueueDoesNotExist`, EventBridge a bare `ValidationException`).
 */
export function writeAwsJsonError(
  response: ServerResponse,
  version: AwsJsonVersion,
  error: AwsServiceError,
  typeNamespace?: string,
): void {
  const body = JSON.stringify({
    __type: typeNamespace ? `${typeNamespace}#${error.code}` : error.code,
    message: error.message,
  });
  const headers: Record<string, string | number> = {
    'content-type': `application/x-amz-json-${version}`,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  };
  if (error.queryErrorCode) {
    headers['x-amzn-query-error'] =
      `${error.queryErrorCode};${error.statusCode >= 500 ? 'Receiver' : 'Sender'}`;
  }
  response.writeHead(error.statusCode, headers);
  response.end(body);
}

/**
 * How a service names its signature errors: `json` as the AWS JSON services do (EventBridge, DynamoDB:
 * `MissingAuthenticationTokenException`, `IncompleteSignatureException`, `InvalidSignatureException`,
 * `UnrecognizedClientException`, all HTTP 400); `query-compatible` as SQS does, with the codes of its
 * query protocol, also in `x-amzn-query-error` (`MissingAuthenticationToken` 403, `IncompleteSignature`
 * 400, `SignatureDoesNotMatch` 403, `InvalidClientTokenId` 403), which the SDK names its errors after.
 */
export type SignatureErrorStyle = 'json' | 'query-compatible';

const SIGNATURE_ERRORS: Readonly<
  Record<SignatureErrorStyle, Record<SignatureRejection['kind'], readonly [code: string, status: number]>>
> = {
  json: {
    missing: ['MissingAuthenticationTokenException', 400],
    incomplete: ['IncompleteSignatureException', 400],
    invalid: ['InvalidSignatureException', 400],
    unrecognized: ['UnrecognizedClientException', 400],
  },
  'query-compatible': {
    missing: ['MissingAuthenticationToken', 403],
    incomplete: ['IncompleteSignature', 400],
    invalid: ['SignatureDoesNotMatch', 403],
    unrecognized: ['InvalidClientTokenId', 403],
  },
};

/** The error a service answers a refused signature with. */
export function signatureError(rejection: SignatureRejection, style: SignatureErrorStyle): AwsServiceError {
  const [code, status] = SIGNATURE_ERRORS[style][rejection.kind];
  return new AwsServiceError(
    code,
    rejection.message,
    status,
    style === 'query-compatible' ? code : undefined,
  );
}
