/**
 * Turns an API Gateway HTTP API (payload 2.0) event into the {@link WebhookRequest} connectors see.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WebhookRequest } from '../connector.ts';

/**
 * The base URL vendors post to. `OMNIHUB_PUBLIC_URL` when set (behind a custom domain or proxy the
 * request's own host is not what the vendor signed); otherwise rebuilt from the request.
 */
export function publicBaseUrl(event: APIGatewayProxyEventV2, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.OMNIHUB_PUBLIC_URL?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const host =
    event.headers?.['x-forwarded-host'] ??
    event.requestContext?.domainName ??
    event.headers?.host ??
    'localhost';
  const proto = event.headers?.['x-forwarded-proto'] ?? 'https';
  return `${proto}://${host}`;
}

export function toWebhookRequest(
  event: APIGatewayProxyEventV2,
  options: { env?: NodeJS.ProcessEnv; now?: Date } = {},
): WebhookRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const body =
    event.body === undefined || event.body === null
      ? Buffer.alloc(0)
      : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const path = event.rawPath;
  const query = event.rawQueryString ?? '';
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    path,
    rawQueryString: query,
    headers,
    body,
    publicUrl: `${publicBaseUrl(event, options.env)}${path}${query ? `?${query}` : ''}`,
    receivedAt: options.now ?? new Date(),
  };
}
