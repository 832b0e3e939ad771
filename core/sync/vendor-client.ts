/**
 * How the sync engine talks to a vendor API: one client per destination that applies the base URL and
 * auth headers, waits for the destination's rate limiter, retries what is worth retrying with
 * exponential backoff and full jitter, honours `Retry-After` / `X-RateLimit-Reset`, and classifies
 * the rest as permanent.
 *
 * Waits longer than the in-process budget are not slept through: the client throws
 * {@link DeferredDeliveryError}, and the consumer hands the message back to its queue with that
 * visibility timeout, so one slow destination never holds a Lambda (or the other destinations) idle.
 * The same happens when the attempts run out (the vendor is failing): the queue then brings the
 * message back with a growing wait (core/sync/redelivery.ts), and until {@link HttpVendorClient.reset}
 * (the consumer calls it for each batch) the client sends nothing more, so one batch makes one series
 * of attempts against a vendor that is down, and a function never runs out of time doing so.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PermanentError, RetryableError } from '../errors.ts';
import { exponentialBackoff, retry } from '../retry.ts';
import type { TokenBucket } from './rate-limit.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface VendorRequest {
  readonly method: HttpMethod;
  /** Path (and query) below the base URL, starting with `/`. */
  readonly path: string;
  /** JSON body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface VendorResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the body is not JSON; undefined when empty. */
  readonly body: unknown;
  /** True when the request was written to the outbox instead of being sent. */
  readonly outbox?: boolean;
}

export interface VendorClient {
  /** Whether requests go to the outbox (no credentials) rather than to the vendor. */
  readonly outbox: boolean;
  request(request: VendorRequest): Promise<VendorResponse>;
  /** Forgets that the vendor was failing: the next request is sent again. */
  reset?(): void;
}

/**
 * Not delivered now, for a reason that may pass (the vendor asked to wait, or kept failing with 408,
 * 429, 5xx or network errors): try again through the queue, no sooner than `retryAfterSeconds`.
 */
export class DeferredDeliveryError extends RetryableError {
  override readonly name = 'DeferredDeliveryError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, 503, 'delivery_deferred', options);
  }
}

/** The vendor refused the request for good (4xx other than 408/429): the message goes to the DLQ. */
export class PermanentDeliveryError extends PermanentError {
  override readonly name = 'PermanentDeliveryError';
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`HTTP ${status}: ${reason}`, 'vendor_rejected');
  }
}

/** A retryable answer found inside a 2xx body (e.g. GraphQL `Throttled`). */
export class ThrottledError extends RetryableError {
  override readonly name = 'ThrottledError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message, 429, 'throttled');
  }
}

/** The first human-readable error message of a vendor error body, bounded in length. */
export function vendorErrorReason(body: unknown): string {
  const pick = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value;
    if (value === null || typeof value !== 'object') return undefined;
    const record = value as Record<string, unknown>;
    const direct = [record.message, record.detail, record.error_description].find(
      (v) => typeof v === 'string',
    );
    if (typeof direct === 'string') {
      const code = [record.code, record.category].find((v) => typeof v === 'string');
      return typeof code === 'string' ? `${code}: ${direct}` : direct;
    }
    const list = record.errors ?? record.userErrors;
    return Array.isArray(list) ? pick(list[0]) : undefined;
  };
  return (pick(body) ?? 'no error message').slice(0, 500);
}

/** Milliseconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (epoch seconds). */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null && retryAfter.trim() !== '') {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset !== null && /^\d+$/.test(reset.trim())) return Math.max(0, Number(reset) * 1000 - now);
  return undefined;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export interface HttpVendorClientOptions {
  readonly destination: string;
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly limiter: TokenBucket;
  readonly delivery: {
    readonly maxAttempts: number;
    readonly baseDelayMs: number;
    readonly maxDelayMs: number;
    readonly maxInProcessWaitMs: number;
    readonly timeoutMs: number;
  };
  readonly classify?: (response: { readonly status: number; readonly body: unknown }) => Error | undefined;
  /**
   * Time left in this invocation: waits beyond it are deferred to the queue, and no request is given
   * longer than it. @default unlimited
   */
  readonly remainingMs?: () => number;
  /** Told of every retry: `throttled` for a 429 or a vendor's throttling answer (for metrics). */
  readonly onRetry?: (retry: { readonly throttled: boolean }) => void;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Kept free at the end of an invocation, to hand the message back to the queue. */
const RESERVE_MS = 1_000;
/** The shortest time worth giving a request. */
const MIN_REQUEST_MS = 1_000;

/** An attempt worth repeating: why it failed, and the least wait the vendor asked for. */
class FailedAttempt extends Error {
  constructor(
    readonly why: string,
    /** A 429 or a vendor's throttling answer (counted apart in the metrics). */
    readonly throttled: boolean,
    readonly waitAtLeastMs: number | undefined,
    override readonly cause?: unknown,
  ) {
    super(why);
  }
}

/** A wait too long to spend in-process: the message goes back to the queue for that long. */
function deferral(destination: string, why: string, ms: number): DeferredDeliveryError {
  return new DeferredDeliveryError(
    `${destination}: ${why}; retry in ${Math.ceil(ms / 1000)} s`,
    Math.max(1, Math.ceil(ms / 1000)),
  );
}

export class HttpVendorClient implements VendorClient {
  readonly outbox = false;
  readonly #options: HttpVendorClientOptions;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  /** Why the last request gave up on a failing vendor, until {@link reset}. */
  #failing: { readonly why: string; readonly retryAfterSeconds: number } | undefined;

  constructor(options: HttpVendorClientOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? sleepFor;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  reset(): void {
    this.#failing = undefined;
  }

  async request(request: VendorRequest): Promise<VendorResponse> {
    const { delivery, destination } = this.#options;
    if (this.#failing) {
      throw new DeferredDeliveryError(
        `${destination}: not sent, an earlier request of this batch failed (${this.#failing.why})`,
        this.#failing.retryAfterSeconds,
      );
    }
    return retry(() => this.#attempt(request), {
      attempts: delivery.maxAttempts,
      backoff: exponentialBackoff({ firstMs: delivery.baseDelayMs, maxMs: delivery.maxDelayMs }),
      retryable: (error) => error instanceof FailedAttempt,
      serverDelayMs: (failed) => failed.waitAtLeastMs,
      maxWaitMs: () => this.#budget(),
      onFailure: ({ error }) => this.#options.onRetry?.({ throttled: error.throttled }),
      giveUp: ({ error, attempt, delayMs }, reason) => {
        if (reason === 'wait') return deferral(destination, error.why, delayMs);
        const why = `${error.why} after ${attempt} attempts`;
        const retryAfterSeconds = Math.max(1, Math.ceil(delayMs / 1000));
        // Throttling is the vendor pacing us (the limiter keeps the pace); anything else is failing.
        if (!error.throttled) this.#failing = { why, retryAfterSeconds };
        return new DeferredDeliveryError(`${destination}: ${why}`, retryAfterSeconds, { cause: error.cause });
      },
      sleep: this.#sleep,
      random: this.#random,
    });
  }

  /** One request, after the rate limiter: the response, or what went wrong and whether to try again. */
  async #attempt(request: VendorRequest): Promise<VendorResponse> {
    const { limiter, destination } = this.#options;
    await this.#wait(limiter.delayFor(1), 'rate limit');
    const timeoutMs = Math.min(this.#options.delivery.timeoutMs, this.#timeLeft());
    if (timeoutMs < MIN_REQUEST_MS)
      throw new DeferredDeliveryError(`${destination}: no time left in this invocation`, 1);
    limiter.take(1);
    try {
      const response = await this.#send(request, timeoutMs);
      if (response.status >= 200 && response.status < 300) {
        const verdict = this.#options.classify?.(response);
        if (verdict === undefined) return response;
        if (!(verdict instanceof ThrottledError)) throw verdict;
        throw new FailedAttempt(verdict.message, true, verdict.retryAfterMs);
      }
      if (RETRYABLE_STATUS.has(response.status)) {
        const told = retryAfterMs(response.headers, this.#now());
        const throttled = response.status === 429;
        if (throttled && told !== undefined) limiter.pauseFor(told);
        throw new FailedAttempt(`HTTP ${response.status}`, throttled, told);
      }
      throw new PermanentDeliveryError(response.status, vendorErrorReason(response.body));
    } catch (error) {
      if (error instanceof FailedAttempt || error instanceof PermanentError) throw error;
      if (error instanceof RetryableError && !(error instanceof ThrottledError)) throw error;
      // Network errors and timeouts: the request may or may not have arrived; deliveries are
      // idempotent upserts (or carry an idempotency key), so sending again is safe.
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new FailedAttempt(why, false, undefined, error);
    }
  }

  /** Sleeps `ms`, or defers to the queue when that is longer than the budget allows. */
  async #wait(ms: number, why: string): Promise<void> {
    if (ms <= 0) return;
    if (ms > this.#budget()) throw deferral(this.#options.destination, why, ms);
    await this.#sleep(ms);
  }

  /** The longest wait spent in-process: the configured one, within the time left in the invocation. */
  #budget(): number {
    return Math.min(this.#options.delivery.maxInProcessWaitMs, this.#timeLeft());
  }

  /** The time left in the invocation, less what handing the message back takes. */
  #timeLeft(): number {
    return (this.#options.remainingMs?.() ?? Number.POSITIVE_INFINITY) - RESERVE_MS;
  }

  async #send(request: VendorRequest, timeoutMs: number): Promise<VendorResponse> {
    const { baseUrl, headers } = this.#options;
    const response = await this.#fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
        ...request.headers,
      },
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body: unknown;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: response.status, headers: response.headers, body };
  }
}

/**
 * The client of a destination without credentials (local hub only, where `OMNIHUB_OUTBOX_DIR` is set):
 * every request is appended to `<dir>/<destination>.jsonl` exactly as it would have been sent
 * (without credentials), and answered `202` with no body.
 */
export class OutboxVendorClient implements VendorClient {
  readonly outbox = true;
  constructor(
    readonly destination: string,
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async request(request: VendorRequest): Promise<VendorResponse> {
    await mkdir(dirname(this.file), { recursive: true });
    const line = {
      at: this.now().toISOString(),
      destination: this.destination,
      method: request.method,
      path: request.path,
      ...(request.body !== undefined ? { body: request.body } : {}),
    };
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
    return { status: 202, headers: new Headers(), body: undefined, outbox: true };
  }
}
