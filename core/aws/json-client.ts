/**
 * A small client for the three AWS JSON-protocol calls the ingest path makes: EventBridge
 * `PutEvents`, DynamoDB item operations (the delivery ledger) and Secrets Manager `GetSecretValue`.
 *
 * Why not the AWS SDK here: an ingest Lambda makes these few calls only, and the SDK clients were
 * 60% of each ingest bundle and most of its cold start (see BENCHMARKS.md and docs/bundles.md).
 * This client speaks the same wire protocol the SDK does (`POST /`, `X-Amz-Target`, SigV4 signed
 * with node:crypto by `sigv4.ts`, checked against `@smithy/signature-v4` in `json-client.test.ts`), finds its endpoint,
 * region and credentials the way the SDK does (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_REGION`,
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, else the SDK's provider chain loaded
 * on demand), and retries as the SDK's standard mode does (3 attempts, exponential backoff with full
 * jitter on throttling, 5xx and network errors). Errors carry `name` (the AWS error code) and
 * `$metadata.httpStatusCode`, as SDK errors do.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { exponentialBackoff, retry } from '../retry.ts';
import { signRequest } from './sigv4.ts';

/** What distinguishes one AWS JSON-protocol service from another. */
export interface AwsJsonService {
  /** The SDK's service id, upper-cased with spaces as `_` in `AWS_ENDPOINT_URL_<ID>`. */
  readonly serviceId: string;
  /** SigV4 signing name, also the endpoint prefix: `<signingName>.<region>.amazonaws.com`. */
  readonly signingName: string;
  /** `X-Amz-Target` prefix: `<targetPrefix>.<Operation>`. */
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
}

export const EVENTBRIDGE: AwsJsonService = {
  serviceId: 'EventBridge',
  signingName: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
};

export const DYNAMODB: AwsJsonService = {
  serviceId: 'DynamoDB',
  signingName: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
};

export const SECRETS_MANAGER: AwsJsonService = {
  serviceId: 'Secrets Manager',
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
};

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** An error answered by an AWS service (or the network), shaped like the SDK's service exceptions. */
export class AwsServiceError extends Error {
  override readonly name: string;
  readonly $metadata: { readonly httpStatusCode?: number; readonly requestId?: string };
  /** The error body's other fields (DynamoDB puts the existing `Item` of a failed condition here). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    metadata: { httpStatusCode?: number; requestId?: string },
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code;
    this.$metadata = metadata;
    this.details = details;
  }
}

/** Codes the SDK's standard retry strategy treats as throttling. */
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** Whether the SDK's standard retry strategy would try this error again. */
export function isRetryableAwsError(error: unknown): error is AwsServiceError {
  if (!(error instanceof AwsServiceError)) return false;
  const status = error.$metadata.httpStatusCode;
  return status === undefined || status >= 500 || status === 429 || THROTTLING_CODES.has(error.name);
}

export interface AwsJsonClientOptions {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Attempts per call, the first included (the SDK's standard mode). @default 3 */
  readonly maxAttempts?: number;
  /** @default credentials from the environment, else the SDK's default provider chain */
  readonly credentials?: () => Promise<AwsCredentials>;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Sends the signed HTTP request. @default node:http(s) with keep-alive (tests and benchmarks stub it) */
  readonly transport?: AwsHttpTransport;
}

/** One HTTP exchange with the service: the signed request in, the raw response out. */
export type AwsHttpTransport = (
  url: URL,
  headers: Record<string, string>,
  body: string,
) => Promise<RawResponse>;

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Keep-alive agents shared by every client of the process (one TCP/TLS handshake per endpoint). */
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 });

/**
 * Calls one AWS JSON-protocol service. Endpoint, region and credentials are read when a call is
 * made, so a client built at cold start follows the environment it runs in.
 *
 * @example
 * const events = new AwsJsonClient(EVENTBRIDGE);
 * const result = await events.call<{ FailedEntryCount?: number }>('PutEvents', { Entries: [...] });
 */
export class AwsJsonClient {
  readonly #service: AwsJsonService;
  readonly #env: NodeJS.ProcessEnv;
  readonly #maxAttempts: number;
  readonly #credentials: () => Promise<AwsCredentials>;
  readonly #now: () => Date;
  readonly #transport: AwsHttpTransport;

  constructor(service: AwsJsonService, options: AwsJsonClientOptions = {}) {
    this.#service = service;
    this.#env = options.env ?? process.env;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#credentials = options.credentials ?? (() => credentialsFromEnvironment(this.#env));
    this.#now = options.now ?? (() => new Date());
    this.#transport = options.transport ?? httpTransport;
  }

  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
    const body = JSON.stringify(input);
    return retry(async () => (await this.#send(operation, body)) as T, {
      attempts: this.#maxAttempts,
      // Standard mode: full jitter over 100 ms × 2^retries so far (100 ms before the first retry), capped
      // at 20 s, as @smithy's StandardRetryStrategy (it waits from 500 ms for throttling; we do not).
      backoff: exponentialBackoff({ firstMs: 100, maxMs: 20_000 }),
      retryable: isRetryableAwsError,
    });
  }

  async #send(operation: string, body: string): Promise<unknown> {
    const region = regionOf(this.#env);
    const endpoint = new URL(endpointOf(this.#service, region, this.#env));
    const headers = signRequest({
      method: 'POST',
      url: endpoint,
      headers: {
        'content-type': `application/x-amz-json-${this.#service.jsonVersion}`,
        'x-amz-target': `${this.#service.targetPrefix}.${operation}`,
      },
      body,
      region,
      service: this.#service.signingName,
      credentials: await this.#credentials(),
      now: this.#now(),
    });
    const response = await this.#transport(endpoint, headers, body);
    const requestId = response.headers['x-amzn-requestid'];
    const metadata = {
      httpStatusCode: response.status,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    };
    let parsed: Record<string, unknown> = {};
    if (response.body.length > 0) {
      try {
        parsed = JSON.parse(response.body) as Record<string, unknown>;
      } catch (error) {
        if (response.status < 300) {
          throw new AwsServiceError(
            'SerializationException',
            'response is not JSON',
            metadata,
            {},
            { cause: error },
          );
        }
      }
    }
    if (response.status < 300) return parsed;
    const { __type, message, Message, ...details } = parsed;
    const typeHeader = response.headers['x-amzn-errortype'];
    const rawType = String(__type ?? (typeof typeHeader === 'string' ? typeHeader : '') ?? '');
    // `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` or `Code:http://...`
    const code = rawType.split('#').pop()?.split(':')[0] || `Http${response.status}`;
    throw new AwsServiceError(code, String(message ?? Message ?? code), metadata, details);
  }
}

/** The default transport: node:http(s) with keep-alive agents. */
export function httpTransport(url: URL, headers: Record<string, string>, body: string): Promise<RawResponse> {
  const https = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (https ? httpsRequest : httpRequest)(
      url,
      { method: 'POST', headers, agent: https ? httpsAgent : httpAgent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', (error) => reject(networkError(error)));
      },
    );
    request.on('error', (error) => reject(networkError(error)));
    request.end(body);
  });
}

/** A network failure, without a status: retryable, as in the SDK. */
function networkError(error: Error): AwsServiceError {
  return new AwsServiceError(
    (error as { code?: string }).code ?? 'NetworkingError',
    error.message,
    {},
    {},
    {
      cause: error,
    },
  );
}

function regionOf(env: NodeJS.ProcessEnv): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsServiceError('ConfigError', 'AWS_REGION is not set', {});
  return region;
}

/**
 * The endpoint as the SDK resolves it: `AWS_ENDPOINT_URL_<SERVICE_ID>`, then `AWS_ENDPOINT_URL`,
 * then the service's regional endpoint.
 */
export function endpointOf(service: AwsJsonService, region: string, env: NodeJS.ProcessEnv): string {
  const specific = env[`AWS_ENDPOINT_URL_${service.serviceId.toUpperCase().replace(/ /g, '_')}`];
  const configured = specific || env.AWS_ENDPOINT_URL;
  if (configured) return configured;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service.signingName}.${region}.${suffix}/`;
}

let defaultChain: (() => Promise<AwsCredentials>) | undefined;

/**
 * Credentials from the environment (always set in Lambda; the local hub sets dummy ones), else the
 * SDK's default provider chain (profiles, SSO, IMDS), loaded only then.
 */
export async function credentialsFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsCredentials> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  if (!defaultChain) {
    // A computed specifier: bundlers leave it alone, so the chain (~150 KB) stays out of the bundle
    // and comes from the Lambda runtime's SDK, or node_modules locally, only on this path.
    const specifier = '@aws-sdk/credential-provider-node';
    const { defaultProvider } = (await import(
      specifier
    )) as typeof import('@aws-sdk/credential-provider-node');
    defaultChain = defaultProvider();
  }
  return defaultChain();
}
