/**
 * Redelivery of failing sync messages: the wait carried by the visibility timeout (a ceiling doubling
 * from `first` to `max`, between half and all of it, never shorter than the vendor asked, ending at
 * `retryFor`), when a message is given up, and the redrive count that never cuts `retryFor` short:
 * checked against the local SQS queue with a fake clock for any policy, jitter, vendor wait and
 * processing time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSyncConfig, redeliveryPolicyOf } from '../../core/sync/config.ts';
import {
  maxReceiveCountFor,
  nextRedelivery,
  OTHER_FAILURES,
  type RedeliveryPolicy,
  RetryForExhaustedError,
  receivesWithin,
} from '../../core/sync/redelivery.ts';
import { SqsQueue } from '../../local/sqs/queue.ts';

const HOUR = 3_600_000;
const DEFAULTS: RedeliveryPolicy = { retryForMs: 24 * HOUR, firstDelayMs: 30_000, maxDelayMs: 900_000 };
const T0 = Date.parse('2026-03-02T09:00:00Z');

describe('Redelivery: the wait after a failed receive', () => {
  it.each([
    [1, 0, 15],
    [1, 0.999_999, 30],
    [2, 0, 30],
    [3, 0.5, 90],
    [5, 0, 240],
    [6, 0, 450], // the ceiling stops at 15 min
    [40, 0.999_999, 900],
  ])('receive %i, jitter %f: %i s', (receiveCount, jitter, seconds) => {
    expect(
      nextRedelivery(DEFAULTS, { receiveCount, firstReceivedAt: T0, now: T0 + 60_000 }, () => jitter),
    ).toEqual({ kind: 'wait', seconds });
  });

  it('waits at least as long as the vendor asked', () => {
    const next = nextRedelivery(
      DEFAULTS,
      { receiveCount: 1, firstReceivedAt: T0, now: T0, askedMs: 120_000 },
      () => 0,
    );
    expect(next).toEqual({ kind: 'wait', seconds: 120 });
  });

  it('makes the last try at retryFor, and gives up at the failure after it', () => {
    const almost = T0 + 24 * HOUR - 100_000;
    expect(
      nextRedelivery(DEFAULTS, { receiveCount: 190, firstReceivedAt: T0, now: almost }, () => 0),
    ).toEqual({
      kind: 'wait',
      seconds: 100,
    });
    expect(
      nextRedelivery(DEFAULTS, { receiveCount: 191, firstReceivedAt: T0, now: T0 + 24 * HOUR }, () => 0),
    ).toEqual({ kind: 'exhausted', triedForMs: 24 * HOUR });
  });

  it('never sets a wait SQS would refuse: 1 s at least, under 12 h from the receive', () => {
    const long: RedeliveryPolicy = {
      retryForMs: 7 * 24 * HOUR,
      firstDelayMs: 12 * HOUR,
      maxDelayMs: 12 * HOUR,
    };
    const last = nextRedelivery(long, { receiveCount: 3, firstReceivedAt: T0, now: T0 }, () => 0.999_999);
    expect(last).toEqual({ kind: 'wait', seconds: 43_200 - 900 });
    const tiny: RedeliveryPolicy = { retryForMs: 5_000, firstDelayMs: 1_000, maxDelayMs: 1_000 };
    expect(nextRedelivery(tiny, { receiveCount: 1, firstReceivedAt: T0, now: T0 + 4_900 }, () => 0)).toEqual({
      kind: 'wait',
      seconds: 1,
    });
  });

  it('says why it gave up, with the last failure', () => {
    const error = new RetryForExhaustedError('24h', new Error('hubspot: HTTP 503 after 5 attempts'));
    expect(error.message).toBe('retryFor (24h) ran out; last failure: hubspot: HTTP 503 after 5 attempts');
    expect(error.code).toBe('retry_for_exhausted');
  });
});

describe('Redelivery: the redrive count', () => {
  it('allows every receive the defaults take in 24 h, and a few more', () => {
    // Waits at their shortest: 15, 30, 60, 120, 240 s, then 450 s until 24 h have passed.
    expect(receivesWithin(DEFAULTS)).toBe(197);
    expect(maxReceiveCountFor(DEFAULTS)).toBe(197 + OTHER_FAILURES);
    expect(maxReceiveCountFor(redeliveryPolicyOf(parseSyncConfig('{}', 'test').delivery))).toBe(202);
  });

  it('a message failing on every receive is given up by the consumer before the queue would redrive it', () => {
    fc.assert(
      fc.property(
        fc.record({
          retryForS: fc.integer({ min: 0, max: 4 * 3_600 }),
          firstS: fc.integer({ min: 1, max: 120 }),
          extraS: fc.integer({ min: 0, max: 1_800 }),
        }),
        fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 600_000 })), { minLength: 1, maxLength: 20 }),
        ({ retryForS, firstS, extraS }, jitters, processingS, asked) => {
          const policy: RedeliveryPolicy = {
            retryForMs: retryForS * 1000,
            firstDelayMs: firstS * 1000,
            maxDelayMs: (firstS + extraS) * 1000,
          };
          fc.pre(maxReceiveCountFor(policy) <= 1_000);
          let now = T0;
          const deadLetterQueue = SqsQueue.open(
            {
              name: 'sync-acme-dlq',
              arn: 'arn:aws:sqs:us-east-1:000000000000:sync-acme-dlq',
              visibilityTimeoutSeconds: 30,
            },
            { now: () => now },
          );
          const queue = SqsQueue.open(
            {
              name: 'sync-acme',
              arn: 'arn:aws:sqs:us-east-1:000000000000:sync-acme',
              visibilityTimeoutSeconds: 180,
              messageRetentionSeconds: 14 * 86_400,
              redrive: { deadLetterQueue, maxReceiveCount: receivesWithin(policy) },
            },
            { now: () => now },
          );
          queue.send({ body: '{}' });
          for (let step = 0; ; step++) {
            const [message] = queue.receive();
            expect(deadLetterQueue.counts().visible).toBe(0); // never redriven by the queue
            if (!message) {
              now += 1_000;
              continue;
            }
            now += (processingS[step % processingS.length] ?? 0) * 1000;
            const askedMs = asked[step % asked.length];
            const next = nextRedelivery(
              policy,
              {
                receiveCount: Number(message.attributes.ApproximateReceiveCount),
                firstReceivedAt: Number(message.attributes.ApproximateFirstReceiveTimestamp),
                now,
                ...(askedMs !== null && askedMs !== undefined ? { askedMs } : {}),
              },
              () => jitters[step % jitters.length] ?? 0,
            );
            if (next.kind === 'exhausted') {
              expect(next.triedForMs).toBeGreaterThanOrEqual(policy.retryForMs);
              return;
            }
            queue.changeVisibility(message.receiptHandle, next.seconds);
            now += next.seconds * 1000;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
