import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../core/events/envelope.ts';
import { BusPublisher, chunkEntries, entrySize, toEntry } from '../../core/ingest/publisher.ts';

const bus = mockClient(EventBridgeClient);

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
  beforeEach(() => bus.reset());

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

  it('sends the envelope as detail, with source, detail-type, time and bus name', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    const result = await new BusPublisher({ busName: 'omnihub-dev' }).publish([envelope(1)]);
    expect([...result.published]).toEqual([0]);
    const input = bus.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(input?.Entries?.[0]).toEqual({
      EventBusName: 'omnihub-dev',
      Source: 'omnihub.sendgrid',
      DetailType: 'message.opened',
      Detail: JSON.stringify(envelope(1)),
      Time: new Date('2025-01-01T00:00:00.000Z'),
    });
  });

  it('retries only the entries that failed (FailedEntryCount) until they succeed', async () => {
    bus
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: 'e0' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { EventId: 'e2' },
        ],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    const result = await new BusPublisher({ busName: 'b', baseDelayMs: 1 }).publish([
      envelope(0),
      envelope(1),
      envelope(2),
    ]);
    expect([...result.published].sort()).toEqual([0, 1, 2]);
    expect(result.failed.size).toBe(0);
    const retry = bus.commandCalls(PutEventsCommand)[1]?.args[0].input;
    expect(retry?.Entries?.map((entry) => JSON.parse(entry.Detail ?? '{}').id)).toEqual(['id-1']);
  });

  it('reports entries still failing after all attempts', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    const result = await new BusPublisher({ busName: 'b', attempts: 3, baseDelayMs: 1 }).publish([
      envelope(0),
    ]);
    expect([...result.failed]).toEqual([0]);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});
