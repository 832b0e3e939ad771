/**
 * Wakes waiters when some state changed, so pollers, long-polling receives and `drain()` wait for a
 * condition instead of sleeping a fixed time.
 */
export class ChangeNotifier {
  private waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves on the next {@link notify}, after `timeoutMs`, or when `signal` aborts, whichever is first.
   * Callers re-check their condition afterwards: a wake-up is a hint, not a guarantee.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
