/**
 * The hub's Lambda runtime (local/lambda/): handlers run in the runtime thread, not on the hub's event
 * loop, with the process's environment, a Lambda context, module state kept between invocations, and
 * every way an invocation can end reported as Lambda reports it.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FunctionTimeoutError, LocalFunction } from '../../local/lambda/local-function.ts';

const environment = {
  repositoryRoot: resolve(import.meta.dirname, '../..'),
  region: 'eu-west-1',
  accountId: '123456789012',
};

function fn(entry: string, timeoutSeconds = 5): LocalFunction {
  return new LocalFunction(
    {
      name: entry.split('/').pop() ?? entry,
      entry: `test/local/fixtures/runtime/${entry}.ts`,
      timeoutSeconds,
      memoryMiB: 256,
    },
    environment,
  );
}

describe('LocalFunction', () => {
  it('runs the handler off the main thread, with the environment as the hub sets it and module state kept', async () => {
    const where = fn('where');
    process.env.OMNIHUB_RUNTIME_TEST = 'before';
    const first = await where.invoke({ variable: 'OMNIHUB_RUNTIME_TEST' });
    // Set after the runtime thread started: the thread shares the process's environment.
    process.env.OMNIHUB_RUNTIME_TEST = 'after';
    const second = await where.invoke({ variable: 'OMNIHUB_RUNTIME_TEST' });
    delete process.env.OMNIHUB_RUNTIME_TEST;
    expect(first).toMatchObject({
      ok: true,
      result: { isMainThread: false, variable: 'before', functionName: 'where', memoryLimitInMB: '256' },
    });
    expect(second).toMatchObject({ ok: true, result: { variable: 'after' } });
    const counts = [first, second].map((outcome) =>
      outcome.ok ? (outcome.result as { invocations: number }).invocations : 0,
    );
    expect(counts[1]).toBe((counts[0] ?? 0) + 1);
    const remaining = first.ok ? (first.result as { remainingMs: number }).remainingMs : 0;
    expect(remaining).toBeGreaterThan(3000);
    expect(remaining).toBeLessThanOrEqual(5000);
  });

  it('reports a thrown error with its name and message, and callback results and errors', async () => {
    const behaviours = fn('behaviours');
    const thrown = await behaviours.invoke({ behaviour: 'throw' });
    expect(thrown).toMatchObject({ ok: false, timedOut: false });
    expect(!thrown.ok && thrown.error).toBeInstanceOf(Error);
    expect(!thrown.ok && (thrown.error as Error).name).toBe('VendorRejectedError');
    expect(!thrown.ok && (thrown.error as Error).message).toBe('the vendor said no');

    expect(await behaviours.invoke({ behaviour: 'callback' })).toEqual({
      ok: true,
      result: { via: 'callback' },
    });
    const callbackError = await behaviours.invoke({ behaviour: 'callback-error' });
    expect(!callbackError.ok && (callbackError.error as Error).name).toBe('TypeError');
    expect(await behaviours.invoke({ behaviour: 'reject-string' })).toEqual({
      ok: false,
      error: 'plain string',
      timedOut: false,
    });
  });

  it('fails a result that cannot be returned, a module without a handler, and a missing module', async () => {
    const uncloneable = await fn('behaviours').invoke({ behaviour: 'uncloneable' });
    expect(!uncloneable.ok && (uncloneable.error as Error).name).toBe('DataCloneError');

    const noHandler = await fn('no-handler').invoke({});
    expect(!noHandler.ok && (noHandler.error as Error).name).toBe('HandlerNotFoundError');
    expect(!noHandler.ok && (noHandler.error as Error).message).toBe(
      'test/local/fixtures/runtime/no-handler.ts does not export a function named handler',
    );

    const missing = await fn('does-not-exist').invoke({});
    expect(missing).toMatchObject({ ok: false, timedOut: false });
  });

  it("times out an invocation that never ends with Lambda's message, and keeps serving others", async () => {
    const behaviours = fn('behaviours', 0.2);
    const started = Date.now();
    const hung = await behaviours.invoke({ behaviour: 'hang' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(hung).toMatchObject({ ok: false, timedOut: true });
    expect(!hung.ok && hung.error).toBeInstanceOf(FunctionTimeoutError);
    expect(!hung.ok && (hung.error as Error).message).toBe('Task timed out after 0.20 seconds');
    expect(behaviours.inFlight).toBe(0);
    expect(await behaviours.invoke({ behaviour: 'callback' })).toEqual({
      ok: true,
      result: { via: 'callback' },
    });
  });

  it('fails the invocations in flight when an uncaught exception ends the runtime thread, then starts a new one', async () => {
    const crashed = await fn('behaviours').invoke({ behaviour: 'crash-later' });
    expect(crashed).toMatchObject({ ok: false, timedOut: false });
    expect(!crashed.ok && (crashed.error as Error).name).toBe('Runtime.ExitError');
    expect(!crashed.ok && (crashed.error as Error).message).toContain('uncaught in a timer');
    // The next invocation is a cold start in a fresh thread: module state starts over.
    const after = await fn('where').invoke({});
    expect(after).toMatchObject({ ok: true, result: { isMainThread: false, invocations: 1 } });
  });
});
