/**
 * When a sync message whose delivery failed for a reason that may pass (408, 429, 5xx, network
 * errors, after the few in-process attempts) is tried again, and when it is given up.
 *
 * Its queue brings it back: the consumer sets the message's visibility timeout (SQS
 * `ChangeMessageVisibility`) to a wait drawn between half and all of a ceiling that doubles with each
 * receive, from `first` up to `max`, and never shorter than the vendor asked (`Retry-After`). No
 * function sleeps through a vendor's outage, and no operator is needed when it ends. Once the message
 * is `retryFor` old (from its first receive), the next failure sends it to the DLQ.
 *
 * Half the ceiling at least (rather than full jitter's anything from zero) bounds how many receives
 * `retryFor` can take, which is what the queue's redrive policy must allow ({@link maxReceiveCountFor}).
 *
 * @example
 * const policy = { retryForMs: 86_400_000, firstDelayMs: 30_000, maxDelayMs: 900_000 };
 * nextRedelivery(policy, { receiveCount: 1, firstReceivedAt: now, now }); // { kind: 'wait', seconds: 15..30 }
 * maxReceiveCountFor(policy); // 203
 */
import { PermanentError } from '../errors.ts';

export interface RedeliveryPolicy {
  /** How long after its first receive a failing message is still tried again. */
  readonly retryForMs: number;
  /** The ceiling of the wait after the first failed receive. */
  readonly firstDelayMs: number;
  /** The largest ceiling. */
  readonly maxDelayMs: number;
}

/** The longest visibility timeout one `ChangeMessageVisibility` call sets (12 h). */
export const MAX_VISIBILITY_SECONDS = 43_200;
/**
 * The longest wait set: SQS counts the 12 h from the receive, and Lambda may hold a received message
 * for its batching window (at most 5 min) and the invocation before the consumer changes it.
 */
const LONGEST_WAIT_SECONDS = MAX_VISIBILITY_SECONDS - 15 * 60;
/** SQS refuses a redrive policy with a larger `maxReceiveCount`. */
export const SQS_MAX_RECEIVE_COUNT = 1_000;
/**
 * Receives allowed beyond what the backoff can take within `retryFor`: for failures that do not go
 * through it (a function timeout or crash, Lambda throttling, the profile table unavailable), which
 * come back after the queue's visibility timeout and reach the DLQ through the redrive policy.
 */
export const OTHER_FAILURES = 5;

export type Redelivery =
  | { readonly kind: 'wait'; readonly seconds: number }
  | { readonly kind: 'exhausted'; readonly triedForMs: number };

/** The ceiling of the wait after the `receiveCount`-th receive failed. */
function ceilingMs(policy: RedeliveryPolicy, receiveCount: number): number {
  const doublings = Math.min(Math.max(0, receiveCount - 1), 52);
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** doublings);
}

/**
 * What to do with a message whose delivery just failed: the wait (whole seconds, at least 1) before
 * its queue brings it back, ending no later than `retryFor` after its first receive so that the last
 * try is made then; or `exhausted` once that moment has passed.
 *
 * @param receiveCount the message's `ApproximateReceiveCount` (1 on its first receive).
 * @param askedMs the least wait the vendor asked for, if any.
 */
export function nextRedelivery(
  policy: RedeliveryPolicy,
  message: {
    readonly receiveCount: number;
    readonly firstReceivedAt: number;
    readonly now: number;
    readonly askedMs?: number;
  },
  random: () => number = Math.random,
): Redelivery {
  const left = message.firstReceivedAt + policy.retryForMs - message.now;
  if (left <= 0) return { kind: 'exhausted', triedForMs: message.now - message.firstReceivedAt };
  const ceiling = ceilingMs(policy, message.receiveCount);
  const drawn = ceiling / 2 + (random() * ceiling) / 2;
  const ms = Math.min(Math.max(drawn, message.askedMs ?? 0), left);
  return { kind: 'wait', seconds: Math.min(LONGEST_WAIT_SECONDS, Math.max(1, Math.ceil(ms / 1000))) };
}

/**
 * The most receives a message can take through {@link nextRedelivery} before it is given up: every
 * wait at its shortest (half its ceiling, at least 1 s), until one receive falls at or after
 * `retryFor`, which is the last.
 */
export function receivesWithin(policy: RedeliveryPolicy): number {
  let receives = 1;
  let at = 0;
  while (at < policy.retryForMs) {
    at += Math.max(1_000, ceilingMs(policy, receives) / 2);
    receives += 1;
  }
  return receives;
}

/**
 * The `maxReceiveCount` of a sync queue's redrive policy: high enough that the redrive never cuts
 * `retryFor` short (the consumer dead-letters a message itself, with the reason), low enough that a
 * message that crashes the function every time still reaches the DLQ.
 */
export function maxReceiveCountFor(policy: RedeliveryPolicy): number {
  return receivesWithin(policy) + OTHER_FAILURES;
}

/** A change still failing after `retryFor`: it goes to the DLQ, saying so. */
export class RetryForExhaustedError extends PermanentError {
  override readonly name = 'RetryForExhaustedError';
  /** @param retryFor as configured (`24h`). */
  constructor(retryFor: string, last: Error) {
    super(`retryFor (${retryFor}) ran out; last failure: ${last.message}`, 'retry_for_exhausted', {
      cause: last,
    });
  }
}
