/**
 * The raw archive's records: what is kept of a request, and reading deliveries back exactly, however
 * the records arrive (parts, duplicates, any order, a line cut short).
 */
import { randomBytes } from 'node:crypto';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASSUMPTIONS, PRICES, rawArchiveCost } from '../../bench/cost.ts';
import { batchesOf, MAX_BYTES_PER_CALL, MAX_RECORD_BYTES } from '../../core/aws/firehose.ts';
import type { WebhookRequest } from '../../core/connector.ts';
import { rawRecordsOf, readRawDeliveries } from '../../core/ingest/raw-archive.ts';

function request(
  body: Buffer,
  headers: Record<string, string> = {},
  receivedAt = '2025-06-01T10:59:59.500Z',
) {
  return {
    method: 'POST',
    path: '/webhooks/shopify',
    rawQueryString: 'shop=a%20b',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    publicUrl: 'https://hooks.example.com/webhooks/shopify?shop=a%20b',
    receivedAt: new Date(receivedAt),
  } satisfies WebhookRequest;
}

const lines = (records: readonly Buffer[]) => records.map((record) => record.toString('utf8'));

describe('Raw archive records', () => {
  it("keeps the body, the URL with its query, the time, the content type and the connector's own headers", () => {
    const original = request(Buffer.from('{"id":1}'), {
      'x-shopify-topic': 'orders/create',
      'shopify-event-id': 'e-1',
      'x-shopify-hmac-sha256': 'c2lnbmF0dXJl',
      'x-forwarded-for': '203.0.113.7',
      'user-agent': 'Shopify-Captain-Hook',
      authorization: 'Bearer secret',
    });
    const records = rawRecordsOf('shopify', original, 'req-1');
    expect(records).toHaveLength(1);
    expect(records[0]?.toString('utf8').endsWith('}\n')).toBe(true);
    const [delivery] = readRawDeliveries(lines(records));
    expect(delivery).toEqual({
      connector: 'shopify',
      requestId: 'req-1',
      request: {
        ...original,
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'shopify-event-id': 'e-1',
        },
      },
    });
  });

  it('reads back exactly the bytes received, parts, duplicates and order notwithstanding', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 7_200_000 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer(),
        (bodies, seed) => {
          const requests = bodies.map(([bytes, offsetMs], index) => ({
            id: `req-${index}`,
            request: request(Buffer.from(bytes), {}, new Date(Date.UTC(2025, 5, 1) + offsetMs).toISOString()),
          }));
          const all = requests.flatMap(({ id, request: each }) => lines(rawRecordsOf('shopify', each, id)));
          // Firehose delivers at least once and in any order.
          const delivered = [...all, ...all.filter((_, index) => (index + seed) % 3 === 0)].sort(
            (a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7),
          );
          const read = readRawDeliveries(delivered);
          expect(read.map((delivery) => delivery.request.body)).toEqual(
            [...requests]
              .sort(
                (a, b) =>
                  a.request.receivedAt.getTime() - b.request.receivedAt.getTime() || a.id.localeCompare(b.id),
              )
              .map(({ request: each }) => each.body),
          );
        },
      ),
    );
  });

  it('cuts a body whose record would pass 1,000 KiB into parts, and leaves out a delivery with a part missing', () => {
    const body = randomBytes(1_300_000); // incompressible: 3 parts of at most 512 KiB gzipped
    const records = rawRecordsOf('shopify', request(body), 'big');
    expect(records).toHaveLength(3);
    for (const record of records) expect(record.length).toBeLessThan(MAX_RECORD_BYTES);
    const [read] = readRawDeliveries(lines([...records].reverse()));
    expect(read?.request.body.equals(body)).toBe(true);
    const unreadable: string[] = [];
    expect(
      readRawDeliveries([...lines(records.slice(1)), '{"v":1,"connector":"sho'], {
        onUnreadable: (line) => unreadable.push(line),
      }),
    ).toEqual([]);
    expect(unreadable).toEqual(['{"v":1,"connector":"sho']);
  });

  it('selects by connector and by received time, from inclusive, to exclusive', () => {
    const at = (iso: string, id: string) =>
      lines(rawRecordsOf('shopify', request(Buffer.from(id), {}, iso), id));
    const all = [
      ...at('2025-06-01T09:59:59.999Z', 'before'),
      ...at('2025-06-01T10:00:00.000Z', 'first'),
      ...at('2025-06-01T10:59:59.999Z', 'last'),
      ...at('2025-06-01T11:00:00.000Z', 'after'),
      ...lines(rawRecordsOf('square', request(Buffer.from('other')), 'other')),
    ];
    const read = readRawDeliveries(all, {
      connector: 'shopify',
      from: new Date('2025-06-01T10:00:00Z'),
      to: new Date('2025-06-01T11:00:00Z'),
    });
    expect(read.map((delivery) => delivery.requestId)).toEqual(['first', 'last']);
  });

  it('puts records in PutRecordBatch calls of at most 500 records and 4 MiB', () => {
    const small = Array.from({ length: 1201 }, () => Buffer.alloc(10));
    expect(batchesOf(small).map((batch) => batch.length)).toEqual([500, 500, 201]);
    const large = Array.from({ length: 9 }, () => Buffer.alloc(900 * 1024));
    const batches = batchesOf(large);
    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 1]);
    for (const batch of batches) {
      expect(batch.reduce((sum, record) => sum + record.length, 0)).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
    }
  });

  it('costs at most $0.25 per million deliveries of 5 KB at list prices: one 5 KB Firehose increment each', () => {
    const cost = rawArchiveCost();
    expect(ASSUMPTIONS.rawDeliveryBytes).toBe(5 * 1024);
    // The body is gzipped in the record: as text or base64 a 5 KB body would be billed 10 KB.
    expect(cost.recordBytes).toBeLessThanOrEqual(PRICES.firehoseRecordIncrementBytes);
    expect(cost.billedBytes).toBe(PRICES.firehoseRecordIncrementBytes);
    expect(cost.firehose + cost.storage + cost.putDollars).toBeCloseTo(cost.total, 10);
    expect(cost.total).toBeLessThanOrEqual(0.25);
  });
});
