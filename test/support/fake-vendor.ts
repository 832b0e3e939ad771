/**
 * The shared part of the fake vendor APIs: a local HTTP server that checks authentication, records
 * every request (method, path, headers, parsed body), and can be told to misbehave for the next N
 * requests (429 with Retry-After, 5xx) as the vendors do, or to be down until told to recover (an
 * outage: one answer for every request, or connections reset). Each vendor's fake lives in its connector's
 * folder (`connectors/<id>/fake-api.ts`) and implements the documented endpoints, error bodies and
 * state on top of it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
  /** The status the fake answered; 0 when it reset the connection instead. */
  status: number;
  /** When the fake received it (epoch ms). */
  readonly at: number;
}

export interface FakeResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** What a vendor's handler answers for one authenticated request. */
export type VendorHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export abstract class FakeVendor {
  readonly requests: RecordedRequest[] = [];
  /** Answers used, in order, before the vendor's own logic (a fault script). */
  readonly #script: FakeResponse[] = [];
  /** While set, every authenticated request gets this (or, with `reset`, a reset connection). */
  #outage: FakeResponse | 'reset' | undefined;
  #server: Server | undefined;
  url = '';

  /** Checks the request's credentials; returns the vendor's 401/403 answer when they are wrong. */
  protected abstract authenticate(request: RecordedRequest): FakeResponse | undefined;
  protected abstract handle(request: RecordedRequest): FakeResponse | Promise<FakeResponse>;

  /** The next `responses.length` requests get these answers (and change nothing). */
  misbehave(...responses: FakeResponse[]): void {
    this.#script.push(...responses);
  }

  /**
   * An outage: until {@link recover}, every authenticated request gets `answer` and changes nothing;
   * `'reset'` resets each connection without an answer (a network error).
   */
  goDown(answer: FakeResponse | 'reset' = { status: 503 }): void {
    this.#outage = answer;
  }

  recover(): void {
    this.#outage = undefined;
  }

  /** Requests that changed vendor state (2xx answers). */
  get applied(): RecordedRequest[] {
    return this.requests.filter((request) => request.status >= 200 && request.status < 300);
  }

  async start(): Promise<this> {
    this.#server = createServer((request, response) => {
      this.#dispatch(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `fake failed: ${String(error)}` }));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server?.close(() => resolve());
      this.#server?.closeAllConnections();
    });
  }

  async #dispatch(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    let malformed = false;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      malformed = true;
      body = text;
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(incoming.headers))
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers,
      body,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(request);
    const denied = this.authenticate(request);
    const outage = this.#outage;
    if (outage === 'reset' && denied === undefined) {
      incoming.socket.destroy();
      return;
    }
    const answer =
      denied ??
      (outage === 'reset' ? undefined : outage) ??
      this.#script.shift() ??
      (malformed ? this.malformedBody() : await this.handle(request));
    request.status = answer.status;
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      ...(payload ? { 'content-type': 'application/json' } : {}),
      ...answer.headers,
    });
    response.end(payload);
  }

  protected malformedBody(): FakeResponse {
    return { status: 400, body: { message: 'Invalid input JSON' } };
  }
}

/** The bearer token of a request, if any. */
export function bearer(request: RecordedRequest): string | undefined {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  return match?.[1];
}
