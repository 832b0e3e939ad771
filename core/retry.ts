/**
 * The one way the hub tries an operation again: a number of attempts, a wait between them drawn
 * uniformly from zero to a ceiling that grows with each failure ("full jitter", so that clients that
 * failed together do not come back together), at least as long as the server asked for
 * (`Retry-After`), and a budget beyond which the caller would rather give up than wait.
 *
 * Each caller keeps its own policy (attempts, ceilings, which failures are worth another try) and says
 * it where it calls {@link retry}: the AWS JSON client (the SDK's standard mode), PutEvents' refused
 * entries, BatchGetItem's unprocessed keys, the vendor HTTP client and the profile writer's
 * optimistic writes.
 */

/** The ceiling of the wait after the `failures`-th failed attempt (1 after the first), in ms. */
export type Backoff = (failures: number) => number;

/**
 * Ceilings that double from `firstMs` (the first retry's) up to `maxMs`.
 *
 * @example
 * exponentialBackoff({ firstMs: 250, maxMs: 8_000 }); // 250, 500, 1000, ... 8000, 8000
 */
export function exponentialBackoff(options: { readonly firstMs: number; readonly maxMs?: number }): Backoff {
  const max = options.maxMs ?? Number.POSITIVE_INFINITY;
  return (failures) => Math.min(max, options.firstMs * 2 ** (failures - 1));
}

/** A failed attempt that was worth another try, and the wait drawn for it. */
export interface RetryFailure<E> {
  readonly error: E;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The wait before the next attempt: the jittered backoff, or what the server asked if longer. */
  readonly delayMs: number;
}

/** Why {@link retry} stopped trying: no attempts left, or the next wait is beyond `maxWaitMs`. */
export type GiveUpReason = 'attempts' | 'wait';

export interface RetryOptions<E> {
  /** Attempts, the first included (at least 1). */
  readonly attempts: number;
  readonly backoff: Backoff;
  /** Whether a failure is worth another attempt; any other is thrown at once. @default every failure */
  readonly retryable?: (error: unknown) => error is E;
  /** The least the server asked to wait after this failure (`Retry-After`), in ms. */
  readonly serverDelayMs?: (error: E) => number | undefined;
  /** The longest wait worth sleeping through (e.g. the time left in the invocation). @default no limit */
  readonly maxWaitMs?: () => number;
  /** Told of every retryable failure, the last one included, before waiting or giving up. */
  readonly onFailure?: (failure: RetryFailure<E>) => void;
  /** What to throw when giving up. @default the last failure itself */
  readonly giveUp?: (failure: RetryFailure<E>, reason: GiveUpReason) => unknown;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, fails with an error `retryable` refuses, or the attempts or the
 * wait budget run out. The wait after the n-th failure is `floor(random() × backoff(n))`, or the
 * server's delay when that is longer; a wait of 0 is not slept.
 *
 * @example
 * const item = await retry(() => client.call('GetItem', input), {
 *   attempts: 3,
 *   backoff: exponentialBackoff({ firstMs: 100, maxMs: 20_000 }),
 *   retryable: (error): error is AwsServiceError => isRetryableAwsError(error),
 * });
 */
export async function retry<T, E = unknown>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions<E>,
): Promise<T> {
  if (!Number.isInteger(options.attempts) || options.attempts < 1) {
    throw new RangeError(`attempts must be a positive integer, not ${options.attempts}`);
  }
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (options.retryable && !options.retryable(error)) throw error;
      const failed = error as E;
      const jittered = Math.floor(random() * options.backoff(attempt));
      const failure = {
        error: failed,
        attempt,
        delayMs: Math.max(options.serverDelayMs?.(failed) ?? 0, jittered),
      };
      options.onFailure?.(failure);
      if (attempt >= options.attempts) throw options.giveUp ? options.giveUp(failure, 'attempts') : error;
      if (failure.delayMs > 0) {
        if (options.maxWaitMs && failure.delayMs > options.maxWaitMs()) {
          throw options.giveUp ? options.giveUp(failure, 'wait') : error;
        }
        await sleep(failure.delayMs);
      }
    }
  }
}
