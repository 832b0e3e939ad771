/**
 * The bus publisher of the consumers and APIs: PutEvents over the AWS JSON 1.1 protocol (no SDK), its
 * chunking and its retries, against a canned EventBridge answering as the service does.
 */
import { describe, expect, it } from 'vitest';
import { AwsJsonClient, EVENTBRIDGE } from '../../core/aws/json-client.ts';
import { BusPublisher, chunkEntries, entrySize, toEntry } from '../../core/aws/publisher.ts';
import type { Envelope } from '../../core/events/envelope.ts';

interface PutEventsCall {
  readonly headers: Record<string, string>;
  readonly entries: Array<Record<string, unknown>>;
}

/**
 * An EventBridge that records each PutEvents call and answers from a script of (status, body) pairs,
 * then accepts every entry.
 */
function cannedBus(script: Array<[number, Record<string, unknown>]> = []) {
  const calls: PutEventsCall[] = [];
  const client = new AwsJsonClient(EVENTBRIDGE, {
    env: {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret',
    },
    transport: async (_url, headers, body) => {
      const entries = (JSON.parse(body) as { Entries: Array<Record<string, unknown>> }).Entries;
      calls.push({ headers, entries });
      const [status, answer] = script.shift() ?? [
        200,
        { FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e${calls.length}-${i}` })) },
      ];
      return { status, headers: { 'x-amzn-requestid': 'r1' }, body: JSON.stringify(answer) };
    },
  });
  return { calls, client };
}

function envelope(index: number, padding = 0): Envelope {
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
    data: { pad: 'x'.repeat(padding) },
  };
}

describe('BusPublisher', () => {
  it('splits into calls of at most 10 entries and 256 KB', () => {
    const small = Array.from({ length: 25 }, (_, i) => toEntry(envelope(i), 'omnihub'));
    expect(chunkEntries(small).map((chunk) => chunk.length)).toEqual([10, 10, 5]);
    const large = Array.from({ length: 4 }, (_, i) => toEntry(envelope(i, 100_000), 'omnihub'));
    const chunks = chunkEntries(large);
    expect(chunks.map((chunk) => chunk.length)).toEqual([2, 2]);
    for (const chunk of chunks) {
      expect(chunk.reduce((sum, i) => sum + entrySize(large[i] as never), 0)).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('refuses an entry over 256 KB on its own with a 413', () => {
    expect(() => chunkEntries([toEntry(envelope(0, 300_000), 'omnihub')])).toThrow(/256 KB/);
  });

  it('sends the envelope as detail, with source, detail-type, time and bus name, signed for events', async () => {
    const bus = cannedBus();
    const result = await new BusPublisher({ busName: 'omnihub-dev', client: bus.client }).publish([
      envelope(1),
    ]);
    expect([...result.published]).toEqual([0]);
    expect(bus.calls[0]?.entries[0]).toEqual({
      EventBusName: 'omnihub-dev',
      Source: 'omnihub.sendgrid',
      DetailType: 'message.opened',
      Detail: JSON.stringify(envelope(1)),
      // JSON protocols carry timestamps as epoch seconds.
      Time: Date.parse('2025-01-01T00:00:00.000Z') / 1000,
    });
    expect(bus.calls[0]?.headers).toMatchObject({
      'x-amz-target': 'AWSEvents.PutEvents',
      'content-type': 'application/x-amz-json-1.1',
    });
    expect(bus.calls[0]?.headers.authorization).toMatch(
      /Credential=AKIDTEST\/\d{8}\/eu-west-1\/events\/aws4_request/,
    );
  });

  it('retries only the entries that failed (FailedEntryCount) until they succeed', async () => {
    const bus = cannedBus([
      [
        200,
        {
          FailedEntryCount: 1,
          Entries: [
            { EventId: 'e0' },
            { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
            { EventId: 'e2' },
          ],
        },
      ],
    ]);
    const result = await new BusPublisher({ busName: 'b', client: bus.client, baseDelayMs: 1 }).publish([
      envelope(0),
      envelope(1),
      envelope(2),
    ]);
    expect([...result.published].sort()).toEqual([0, 1, 2]);
    expect(result.failed.size).toBe(0);
    expect(bus.calls[1]?.entries.map((entry) => JSON.parse(String(entry.Detail)).id)).toEqual(['id-1']);
  });

  it('reports entries still failing after all attempts', async () => {
    const failing: [number, Record<string, unknown>] = [
      200,
      { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] },
    ];
    const bus = cannedBus([failing, failing, failing]);
    const result = await new BusPublisher({
      busName: 'b',
      client: bus.client,
      attempts: 3,
      baseDelayMs: 1,
    }).publish([envelope(0)]);
    expect([...result.failed]).toEqual([0]);
    expect(bus.calls).toHaveLength(3);
  });

  it('tries a throttled call again, and throws a call the bus refuses as invalid', async () => {
    const throttled = cannedBus([[400, { __type: 'ThrottlingException', message: 'Rate exceeded' }]]);
    const result = await new BusPublisher({ busName: 'b', client: throttled.client, baseDelayMs: 1 }).publish(
      [envelope(0)],
    );
    expect([...result.published]).toEqual([0]);
    expect(throttled.calls).toHaveLength(2);

    const refused = cannedBus([[400, { __type: 'ValidationException', message: 'EventBusName is invalid' }]]);
    await expect(
      new BusPublisher({ busName: 'b', client: refused.client, baseDelayMs: 1 }).publish([envelope(0)]),
    ).rejects.toMatchObject({ name: 'ValidationException', message: 'EventBusName is invalid' });
    expect(refused.calls).toHaveLength(1);
  });
});
