/**
 * A token bucket per destination: `requests` tokens refilled evenly over `perSeconds`, the bucket
 * holding at most `requests` (so a burst never exceeds the documented window). A 429 empties it and
 * pauses it for the time the vendor asked.
 *
 * Per Lambda container: with several concurrent containers the vendor's own 429s (honoured by the
 * client) are the backstop; the sync consumers run with low concurrency for that reason.
 */
export class TokenBucket {
  #tokens: number;
  #updatedAt: number;
  #pausedUntil = 0;
  readonly #capacity: number;
  readonly #perMs: number;

  constructor(
    limit: { readonly requests: number; readonly perSeconds: number },
    private readonly now: () => number = Date.now,
  ) {
    this.#capacity = limit.requests;
    this.#perMs = limit.requests / (limit.perSeconds * 1000);
    this.#tokens = limit.requests;
    this.#updatedAt = now();
  }

  #refill(): void {
    const at = this.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + (at - this.#updatedAt) * this.#perMs);
    this.#updatedAt = at;
  }

  /** Milliseconds until `cost` tokens are available (0 when they are now). */
  delayFor(cost: number): number {
    this.#refill();
    const paused = Math.max(0, this.#pausedUntil - this.now());
    const missing = cost - this.#tokens;
    return Math.max(paused, missing <= 0 ? 0 : Math.ceil(missing / this.#perMs));
  }

  /** Takes `cost` tokens (the balance may go negative when a caller did not wait). */
  take(cost: number): void {
    this.#refill();
    this.#tokens -= cost;
  }

  /** The vendor said wait `ms`: nothing leaves before then, and the bucket starts empty. */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.now() + ms);
    this.#tokens = Math.min(this.#tokens, 0);
  }
}
