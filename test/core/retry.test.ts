/**
 * The retry helper with a deterministic random and a sleep that records instead of waiting: attempts,
 * full-jitter waits under the ceilings, server-given delays, the wait budget, giving up; and the
 * policies of the callers built on it (the AWS JSON client, PutEvents, BatchGetItem, the vendor client)
 * as the waits they ask for.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DynamoDocumentClient } from '../../core/aws/dynamodb.ts';
import { AwsJsonClient, type AwsServiceError, DYNAMODB, EVENTBRIDGE } from '../../core/aws/json-client.ts';
import { BusPublisher } from '../../core/aws/publisher.ts';
import type { Envelope } from '../../core/events/envelope.ts';
import { exponentialBackoff, type GiveUpReason, type RetryFailure, retry } from '../../core/retry.ts';
import { TokenBucket } from '../../core/sync/rate-limit.ts';
import { DeferredDeliveryError, HttpVendorClient } from '../../core/sync/vendor-client.ts';

class Flaky extends Error {
  constructor(readonly attempt: number) {
    super(`attempt ${attempt} failed`);
  }
}
const isFlaky = (error: unknown): error is Flaky => error instanceof Flaky;

/** An operation that fails its first `failures` attempts with {@link Flaky}, then answers `done`. */
function failing(failures: number) {
  const attempts: number[] = [];
  const operation = async (attempt: number) => {
    attempts.push(attempt);
    if (attempts.length <= failures) throw new Flaky(attempt);
    return 'done';
  };
  return { attempts, operation };
}

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('exponentialBackoff', () => {
  it.each([
    [{ firstMs: 250, maxMs: 8_000 }, [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000]],
    [{ firstMs: 100 }, [100, 200, 400, 800, 1_600, 3_200, 6_400]],
    [{ firstMs: 0, maxMs: 10 }, [0, 0, 0, 0, 0, 0, 0]],
  ])('%j gives the ceilings %j after failures 1..7', (options, ceilings) => {
    const backoff = exponentialBackoff(options);
    expect([1, 2, 3, 4, 5, 6, 7].map(backoff)).toEqual(ceilings);
  });
});

describe('retry', () => {
  it('answers the first success, telling the operation which attempt it is', async () => {
    const { attempts, operation } = failing(2);
    const { waits, sleep } = recordingSleep();
    const result = await retry(operation, {
      attempts: 5,
      backoff: exponentialBackoff({ firstMs: 100 }),
      random: () => 0.5,
      sleep,
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toEqual([50, 100]);
  });

  it('waits floor(random × ceiling): full jitter, never the ceiling itself', async () => {
    const { operation } = failing(3);
    const { waits, sleep } = recordingSleep();
    const draws = [0, 0.999_999, 0.25];
    await retry(operation, {
      attempts: 4,
      backoff: exponentialBackoff({ firstMs: 1_000, maxMs: 3_000 }),
      random: () => draws.shift() ?? 0,
      sleep,
    });
    // 0 is not slept; the ceilings are 1000, 2000, 3000 (capped).
    expect(waits).toEqual([1_999, 750]);
  });

  it('throws the last failure itself when the attempts run out, without waiting after it', async () => {
    const { attempts, operation } = failing(10);
    const { waits, sleep } = recordingSleep();
    const error = await retry(operation, {
      attempts: 3,
      backoff: () => 10,
      random: () => 0.5,
      sleep,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Flaky);
    expect((error as Flaky).attempt).toBe(3);
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toEqual([5, 5]);
  });

  it('throws a failure the predicate refuses at once, and is not told of it', async () => {
    const failures: RetryFailure<Flaky>[] = [];
    const { waits, sleep } = recordingSleep();
    let calls = 0;
    const refused = new TypeError('not worth another try');
    const error = await retry(
      async () => {
        calls += 1;
        if (calls === 1) throw new Flaky(1);
        throw refused;
      },
      {
        attempts: 5,
        backoff: () => 10,
        retryable: isFlaky,
        onFailure: (failure) => failures.push(failure),
        random: () => 0.5,
        sleep,
      },
    ).catch((e: unknown) => e);
    expect(error).toBe(refused);
    expect(calls).toBe(2);
    expect(failures.map(({ attempt, delayMs }) => [attempt, delayMs])).toEqual([[1, 5]]);
    expect(waits).toEqual([5]);
  });

  it('waits what the server asked when that is longer than the jittered backoff', async () => {
    const asked = [3_000, undefined, 10];
    const { waits, sleep } = recordingSleep();
    const { operation } = failing(3);
    await retry(operation, {
      attempts: 4,
      backoff: exponentialBackoff({ firstMs: 200 }),
      retryable: isFlaky,
      serverDelayMs: (error) => asked[error.attempt - 1],
      random: () => 0.5,
      sleep,
    });
    expect(waits).toEqual([3_000, 200, 400]);
  });

  it('gives up instead of sleeping through a wait beyond the budget, with what it would have waited', async () => {
    const { attempts, operation } = failing(5);
    const { waits, sleep } = recordingSleep();
    const gaveUp: Array<[GiveUpReason, number, number]> = [];
    const budgets = [1_000, 1_000, 300];
    const error = await retry(operation, {
      attempts: 10,
      backoff: exponentialBackoff({ firstMs: 200 }),
      retryable: isFlaky,
      maxWaitMs: () => budgets.shift() ?? 0,
      giveUp: (failure, reason) => {
        gaveUp.push([reason, failure.attempt, failure.delayMs]);
        return new Error(`gave up: ${reason}`);
      },
      random: () => 0.99,
      sleep,
    }).catch((e: unknown) => e);
    expect(error).toEqual(new Error('gave up: wait'));
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toEqual([198, 396]);
    expect(gaveUp).toEqual([['wait', 3, 792]]);
  });

  it('never refuses a wait of 0, whatever the budget', async () => {
    const { attempts, operation } = failing(2);
    const result = await retry(operation, {
      attempts: 3,
      backoff: () => 0,
      maxWaitMs: () => -1_000,
      sleep: () => Promise.reject(new Error('must not sleep')),
    });
    expect(result).toBe('done');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('tells of every retryable failure, the last one included, and throws what giveUp returns', async () => {
    const { operation } = failing(10);
    const told: Array<[number, number]> = [];
    const reasons: GiveUpReason[] = [];
    const error = await retry(operation, {
      attempts: 3,
      backoff: (failures) => 10 * failures,
      retryable: isFlaky,
      onFailure: ({ attempt, delayMs, error }) => {
        expect(error.attempt).toBe(attempt);
        told.push([attempt, delayMs]);
      },
      giveUp: (_failure, reason) => {
        reasons.push(reason);
        return new RangeError('out of attempts');
      },
      random: () => 0.5,
      sleep: async () => {},
    }).catch((e: unknown) => e);
    expect(error).toEqual(new RangeError('out of attempts'));
    expect(told).toEqual([
      [1, 5],
      [2, 10],
      [3, 15],
    ]);
    expect(reasons).toEqual(['attempts']);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s attempts before calling anything', async (attempts) => {
    const { attempts: calls, operation } = failing(0);
    await expect(retry(operation, { attempts, backoff: () => 0 })).rejects.toThrow(
      /attempts must be a positive integer/,
    );
    expect(calls).toEqual([]);
  });

  it('sleeps for real by default', async () => {
    const { operation } = failing(1);
    const started = performance.now();
    await retry(operation, { attempts: 2, backoff: () => 40, random: () => 0.999 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });

  it('calls at most `attempts` times, and waits exactly the jittered ceilings in between (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 12,
          maxLength: 12,
        }),
        async (attempts, failures, firstMs, maxMs, draws) => {
          const { attempts: calls, operation } = failing(failures);
          const { waits, sleep } = recordingSleep();
          const backoff = exponentialBackoff({ firstMs, maxMs });
          let drawn = 0;
          const outcome = await retry(operation, {
            attempts,
            backoff,
            random: () => draws[drawn++] ?? 0,
            sleep,
          }).catch((e: unknown) => e);

          const succeeded = failures < attempts;
          expect(outcome).toEqual(succeeded ? 'done' : new Flaky(attempts));
          expect(calls).toEqual(Array.from({ length: Math.min(failures + 1, attempts) }, (_, i) => i + 1));
          const expected = draws
            .slice(0, Math.min(failures, attempts - 1))
            .map((draw, i) => Math.floor(draw * Math.min(maxMs, firstMs * 2 ** i)))
            .filter((wait) => wait > 0);
          expect(waits).toEqual(expected);
        },
      ),
    );
  });
});

/** The waits each caller asks of the default sleep, with Math.random pinned at 0.5. */
describe('retry: the policies of its callers', () => {
  let waits: number[];
  function pinRandomAndRecordWaits() {
    waits = [];
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => {
      waits.push(ms ?? 0);
      callback();
      return 0;
    }) as unknown as typeof setTimeout);
  }
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret' };

  it('AWS JSON client: 3 attempts, full jitter over 100 ms × 2^retries, on throttling and 5xx only', async () => {
    let calls = 0;
    const client = new AwsJsonClient(EVENTBRIDGE, {
      env,
      transport: async () => {
        calls += 1;
        return { status: 503, headers: {}, body: JSON.stringify({ __type: 'ServiceUnavailable' }) };
      },
    });
    pinRandomAndRecordWaits();
    const error = (await client.call('PutEvents', {}).catch((e: unknown) => e)) as AwsServiceError;
    expect(error.name).toBe('ServiceUnavailable');
    expect(calls).toBe(3);
    expect(waits).toEqual([50, 100]);

    calls = 0;
    waits.length = 0;
    const refusing = new AwsJsonClient(EVENTBRIDGE, {
      env,
      transport: async () => {
        calls += 1;
        return { status: 400, headers: {}, body: JSON.stringify({ __type: 'ValidationException' }) };
      },
    });
    await expect(refusing.call('PutEvents', {})).rejects.toMatchObject({ name: 'ValidationException' });
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('AWS JSON client: the ceiling stops at 20 s', async () => {
    const client = new AwsJsonClient(DYNAMODB, {
      env,
      maxAttempts: 10,
      transport: async () => ({
        status: 400,
        headers: {},
        body: JSON.stringify({ __type: 'ThrottlingException' }),
      }),
    });
    pinRandomAndRecordWaits();
    await expect(client.call('GetItem', {})).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(waits).toEqual([50, 100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000]);
  });

  it('PutEvents: 4 attempts of the refused entries only, full jitter over 50 ms × 2^(attempt - 1)', async () => {
    const sent: number[] = [];
    const client = new AwsJsonClient(EVENTBRIDGE, {
      env,
      transport: async (_url, _headers, body) => {
        const entries = (JSON.parse(body) as { Entries: unknown[] }).Entries;
        sent.push(entries.length);
        // The first entry of every call is accepted, the others refused.
        const answer = entries.map((_, i) => (i === 0 ? { EventId: `e${sent.length}` } : { ErrorCode: 'X' }));
        return { status: 200, headers: {}, body: JSON.stringify({ FailedEntryCount: 1, Entries: answer }) };
      },
    });
    pinRandomAndRecordWaits();
    const result = await new BusPublisher({ busName: 'b', client }).publish(
      Array.from({ length: 6 }, (_, i) => envelope(i)),
    );
    expect(sent).toEqual([6, 5, 4, 3]);
    expect(waits).toEqual([50, 100, 200]);
    expect([...result.published]).toEqual([0, 1, 2, 3]);
    expect([...result.failed]).toEqual([4, 5]);
  });

  it('BatchGetItem: 8 calls for unprocessed keys, full jitter over 50 ms × 2^(call - 1)', async () => {
    let calls = 0;
    const db = new DynamoDocumentClient({
      env,
      transport: async (_url, _headers, body) => {
        calls += 1;
        const input = JSON.parse(body) as { RequestItems: Record<string, unknown> };
        return {
          status: 200,
          headers: {},
          body: JSON.stringify({ Responses: { t: [] }, UnprocessedKeys: input.RequestItems }),
        };
      },
    });
    pinRandomAndRecordWaits();
    await expect(db.batchGet({ TableName: 't', Keys: [{ pk: 'a', sk: 'b' }] })).rejects.toMatchObject({
      name: 'UnprocessedKeysError',
      message: 'BatchGetItem left 1 keys of t unprocessed after 8 calls',
    });
    expect(calls).toBe(8);
    expect(waits).toEqual([50, 100, 200, 400, 800, 1_600, 3_200]);
  });

  it('vendor client: the configured attempts, base and cap; Retry-After when longer; then deferral', async () => {
    const answers = [
      { status: 503 },
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 500 },
      { status: 502 },
      { status: 503 },
    ];
    // One clock for the rate limiter (paused by the 429) and the waits, which move it on.
    let clock = Date.parse('2025-05-01T12:00:00Z');
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
      clock += ms;
    };
    const throttled: boolean[] = [];
    const client = new HttpVendorClient({
      destination: 'acme',
      baseUrl: 'https://api.acme.test',
      headers: {},
      limiter: new TokenBucket({ requests: 100, perSeconds: 1 }, () => clock),
      now: () => clock,
      delivery: {
        maxAttempts: 5,
        baseDelayMs: 250,
        maxDelayMs: 600,
        maxInProcessWaitMs: 10_000,
        timeoutMs: 1_000,
      },
      onRetry: ({ throttled: was }) => throttled.push(was),
      fetch: async () => {
        const answer = answers.shift() ?? { status: 200 };
        return new Response(null, { status: answer.status, headers: answer.headers ?? {} });
      },
      sleep,
      random: () => 0.5,
    });
    const error = await client
      .request({ method: 'POST', path: '/contacts', body: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeferredDeliveryError);
    expect((error as DeferredDeliveryError).message).toBe('acme: HTTP 503 after 5 attempts');
    expect((error as DeferredDeliveryError).retryAfterSeconds).toBe(1);
    expect(slept).toEqual([125, 2_000, 300, 300]);
    expect(throttled).toEqual([false, true, false, false, false]);
  });
});

function envelope(index: number): Envelope {
  return {
    id: `id-${index}`,
    type: 'message.opened',
    source: 'omnihub.sendgrid',
    time: '2025-01-01T00:00:00.000Z',
    occurredAt: '2025-01-01T00:00:00.000Z',
    receivedAt: '2025-01-01T00:00:01.000Z',
    schemaVersion: 1,
    dataschema: 'x',
    origin: { connector: 'sendgrid', deliveryId: `d-${index}` },
    identities: [],
    correlationId: 'c',
    data: {},
  };
}
