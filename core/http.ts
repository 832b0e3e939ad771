/**
 * HTTP answers for API Gateway HTTP API (payload 2.0) handlers: JSON bodies, and errors mapped to
 * `{ "error": code, "message": ... }` without stack traces.
 */
import { ClientError, RetryableError } from './errors.ts';
import { logger } from './observability.ts';

/** A JSON answer; structurally both an API Gateway 2.0 result and a connector `HttpResponse`. */
export interface JsonResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): JsonResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function errorBody(code: string, message: string): { error: string; message: string } {
  return { error: code, message };
}

/**
 * Maps any thrown value to a response. Client errors keep their status and code; retryable errors
 * become their 5xx; anything else is a 500 whose message says nothing about internals.
 */
export function errorResponse(error: unknown): JsonResponse {
  if (error instanceof ClientError) {
    return json(error.status, errorBody(error.code, error.message), error.headers);
  }
  if (error instanceof RetryableError) {
    logger.warn('request failed, caller should retry', { code: error.code, error: describeError(error) });
    return json(error.status, errorBody(error.code, error.message), { 'retry-after': '5' });
  }
  logger.error('unexpected error', { error: describeError(error) });
  return json(500, errorBody('internal_error', 'an internal error occurred; the request can be retried'));
}

/** Error name, message and cause chain, without the stack's file paths in responses. */
export function describeError(error: unknown): { name: string; message: string; cause?: unknown } {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.cause !== undefined ? { cause: describeError(error.cause) } : {}),
    };
  }
  return { name: 'NonError', message: String(error) };
}
