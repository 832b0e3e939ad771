/** The hub's own answers: JSON, and errors as `{"error": code, "message": ...}`. */
import type { ServerResponse } from 'node:http';

export function writeJson(
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

export function writeError(
  response: ServerResponse,
  statusCode: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeJson(response, statusCode, { error, message }, headers);
}
