/**
 * Error classes shared by connectors, handlers and the local hub.
 *
 * Two families: {@link ClientError} (the caller's mistake, answered with a 4xx and a JSON body
 * `{ "error": code, "message": ... }`) and {@link RetryableError} (our side or a dependency failed;
 * the vendor or queue should try again). A connector never throws a bare `Error`.
 */

/** The caller sent something we will not accept. Answered with `status` and a JSON body. */
export class ClientError extends Error {
  override readonly name: string = 'ClientError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 400: the body or query could not be parsed or failed validation. */
export class ValidationError extends ClientError {
  override readonly name = 'ValidationError';
  constructor(message: string, code = 'invalid_request') {
    super(400, code, message);
  }
}

/** 401: missing, malformed, wrong or stale signature. `code` says which part failed. */
export class SignatureError extends ClientError {
  override readonly name = 'SignatureError';
  constructor(
    code: 'missing_signature' | 'invalid_signature' | 'stale_timestamp' | 'missing_timestamp',
    message: string,
  ) {
    super(401, code, message);
  }
}

/** 404: the addressed thing does not exist. */
export class NotFoundError extends ClientError {
  override readonly name = 'NotFoundError';
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** Something outside the caller's control failed; try again later. Answered with a 5xx. */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  constructor(
    message: string,
    readonly status = 503,
    readonly code = 'temporarily_unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 503: the connector has no secret configured; it never accepts unverified traffic. */
export class ConnectorNotConfiguredError extends RetryableError {
  override readonly name = 'ConnectorNotConfiguredError';
  constructor(connectorId: string, missing: string[]) {
    super(
      `connector '${connectorId}' is not configured (missing ${missing.join(', ')})`,
      503,
      'connector_not_configured',
    );
  }
}

/** A failure that retrying will not fix (e.g. a permanent 4xx from a vendor API). */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  constructor(
    message: string,
    readonly code = 'permanent_failure',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
