/**
 * HTTP client for the hub's own API (`/profiles`, ...), locally and in AWS.
 *
 * The base URL comes from `--api`, else `OMNIHUB_API_URL`, else the local hub on
 * `http://127.0.0.1:${PORT:-3000}`. Requests to anything but a loopback address are signed with
 * SigV4 for `execute-api` (the `/profiles` routes use IAM authorization in AWS) with the default
 * credential chain (`AWS_PROFILE`, environment, SSO, instance role).
 */
import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { type CliIo, UsageError } from './command.ts';

export interface HubClientOptions {
  readonly baseUrl: string;
  /** Signing region; @default from the execute-api host name, else `AWS_REGION`. */
  readonly region?: string;
  readonly fetch?: typeof fetch;
}

export interface HubResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** The `{error, message}` body of a 4xx/5xx, as an Error. */
export class HubApiError extends Error {
  override readonly name = 'HubApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** node:crypto behind the hash interface SignatureV4 expects. */
class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

export function defaultBaseUrl(env: NodeJS.ProcessEnv): string {
  return env.OMNIHUB_API_URL ?? `http://127.0.0.1:${env.PORT || 3000}`;
}

/**
 * The `parseArgs` options by which every command is told its hub: `--api`, and `--hub`, the name
 * `export` and `sql` once used, still taken with a warning.
 */
export const API_OPTIONS = { api: { type: 'string' }, hub: { type: 'string' } } as const;

/** What `--api <url>` means, in every command's usage. */
export const API_HELP = 'the hub (default: OMNIHUB_API_URL, else http://127.0.0.1:$PORT or :3000)';

/** The hub's URL as the command was told it (`--api`, deprecated `--hub`), else undefined. */
export function givenApiUrl(
  values: { readonly api?: string; readonly hub?: string },
  io: CliIo,
): string | undefined {
  if (values.hub === undefined) return values.api;
  if (values.api !== undefined) throw new UsageError('--hub is the old name of --api: give --api only');
  io.err('warning: --hub is deprecated, use --api');
  return values.hub;
}

/**
 * The hub every command talks to: `--api <url>`, else `OMNIHUB_API_URL`, else the local hub on
 * `http://127.0.0.1:${PORT:-3000}`.
 *
 * @example
 * const { values } = parseArgs({ args, options: { ...API_OPTIONS, json: { type: 'boolean' } } });
 * const client = new HubClient({ baseUrl: apiUrl(values, io) });
 */
export function apiUrl(values: { readonly api?: string; readonly hub?: string }, io: CliIo): string {
  return givenApiUrl(values, io) ?? defaultBaseUrl(io.env);
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
}

export class HubClient {
  readonly baseUrl: URL;
  readonly #signer: SignatureV4 | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: HubClientOptions) {
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.#fetch = options.fetch ?? fetch;
    if (!isLoopback(this.baseUrl)) {
      const region =
        options.region ??
        /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(this.baseUrl.hostname)?.[1] ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION;
      if (!region) throw new Error('set AWS_REGION to sign requests for a custom domain');
      this.#signer = new SignatureV4({
        service: 'execute-api',
        region,
        credentials: defaultProvider(),
        sha256: Sha256,
      });
    }
  }

  /** Sends a request; 2xx resolves with the parsed body, anything else throws HubApiError. */
  async request<T>(method: string, path: string, query: Record<string, string> = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.baseUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    let headers: Record<string, string> = { accept: 'application/json', host: url.host };
    if (this.#signer) {
      const signed = await this.#signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
      });
      headers = signed.headers as Record<string, string>;
    }
    const { host: _host, ...sent } = headers;
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers: sent });
    } catch (error) {
      throw new Error(
        `cannot reach the hub at ${this.baseUrl.origin} (${error instanceof Error ? error.message : String(error)}); is it running (npm start), or is --api / OMNIHUB_API_URL right?`,
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = { error: 'not_json', message: text.slice(0, 200) };
    }
    if (!response.ok) {
      const { error, message } = (body ?? {}) as { error?: string; message?: string };
      throw new HubApiError(response.status, error ?? `http_${response.status}`, message ?? text);
    }
    return body as T;
  }
}
