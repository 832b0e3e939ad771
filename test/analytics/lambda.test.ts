/**
 * The AWS side's two functions with their AWS calls faked at the SDK and HTTP boundary: the Firehose
 * transformation and the scheduled profile snapshot (rows equal to the local export's).
 */
import { gunzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { flattenEvent, flattenProfileItems } from '../../analytics/flatten.ts';
import { handler as flattenHandler } from '../../analytics/lambda/flatten-events.ts';
import { snapshotKey, writeSnapshot } from '../../analytics/lambda/profile-snapshot.ts';
import { S3ObjectWriter } from '../../analytics/lambda/s3-object-writer.ts';

const envelope = {
  id: 'evt-1',
  type: 'cart.updated',
  source: 'omnihub.shopify',
  time: '2025-03-05T09:10:00Z',
  occurredAt: '2025-03-05T09:10:00Z',
  receivedAt: '2025-03-05T09:10:01Z',
  schemaVersion: 1,
  dataschema: 'https://omnihub.dev/schemas/cart.updated.v1.json',
  origin: { connector: 'shopify', deliveryId: 'checkouts/create:1', topic: 'checkouts/create' },
  identities: [{ type: 'email', value: 'ada@example.com' }],
  correlationId: 'c-1',
  data: { cartId: '9001', total: { amount: 19900, currency: 'USD' }, lineItems: [], completed: false },
};
const busEvent = { id: 'eb-1', 'detail-type': 'cart.updated', source: 'omnihub.shopify', detail: envelope };

function firehoseEvent(...payloads: string[]): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/analytics',
    region: 'eu-west-1',
    records: payloads.map((payload, index) => ({
      recordId: `r${index}`,
      approximateArrivalTimestamp: Date.parse('2025-03-05T09:10:02Z'),
      data: Buffer.from(payload, 'utf8').toString('base64'),
    })),
  };
}

describe('Lambda: flatten-events (Firehose transformation)', () => {
  it('turns each bus event into one JSON line of the events table, dated by arrival', async () => {
    const result = await flattenHandler(firehoseEvent(JSON.stringify(busEvent)));
    expect(result.records).toHaveLength(1);
    const [record] = result.records;
    expect(record).toMatchObject({ recordId: 'r0', result: 'Ok' });
    const line = Buffer.from(record?.data ?? '', 'base64').toString('utf8');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual(flattenEvent(busEvent, Date.parse('2025-03-05T09:10:02Z')));
    expect(JSON.parse(line)).toMatchObject({
      cart_id: '9001',
      dt: '2025-03-05',
      occurred_at: '2025-03-05 09:10:00.000',
    });
  });

  it('hands back what is not a canonical event as failed, unchanged, so Firehose keeps it', async () => {
    const notJson = 'ada@example.com';
    const notEnvelope = JSON.stringify({ id: 'eb-2', 'detail-type': 'x', detail: { nope: true } });
    const result = await flattenHandler(firehoseEvent(notJson, notEnvelope, JSON.stringify(busEvent)));
    expect(result.records.map((r) => r.result)).toEqual(['ProcessingFailed', 'ProcessingFailed', 'Ok']);
    expect(Buffer.from(result.records[0]?.data ?? '', 'base64').toString('utf8')).toBe(notJson);
  });
});

const items = [
  {
    pk: 'P#p_1',
    sk: 'P',
    profileId: 'p_1',
    status: 'live',
    createdAt: '2025-03-01T00:00:00Z',
    updatedAt: '2025-03-01T00:00:00Z',
    identities: ['email:ada@example.com'],
    traits: {},
    consent: {},
    orders: {},
    channels: ['shopify'],
    mergedFrom: [],
    mergeHistory: [],
    stats: { orderCount: 0, lifetimeValue: {}, channels: ['shopify'] },
  },
  { pk: 'P#p_2', sk: 'P', profileId: 'p_2', status: 'merged', mergedInto: 'p_1' },
  { pk: 'ID#email:ada@example.com', sk: 'ID', profileId: 'p_1' },
];

describe('Lambda: profile-snapshot', () => {
  it('scans every page and replaces one gzipped JSON-lines object per table', async () => {
    const dynamo = mockClient(DynamoDBDocumentClient);
    dynamo
      .on(ScanCommand)
      .resolvesOnce({ Items: items.slice(0, 2), LastEvaluatedKey: { pk: 'P#p_2', sk: 'P' } })
      .resolvesOnce({ Items: items.slice(2) });
    const puts = new Map<string, string>();
    const writer = {
      put: async (key: string, body: Uint8Array, contentType: string) => {
        expect(contentType).toBe('application/x-ndjson');
        puts.set(key, gunzipSync(body).toString('utf8'));
      },
    };
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
    const counts = await writeSnapshot({ db, writer, tableName: 'profiles-table' });

    expect(dynamo.commandCalls(ScanCommand).map((call) => call.args[0].input)).toEqual([
      { TableName: 'profiles-table', ExclusiveStartKey: undefined },
      { TableName: 'profiles-table', ExclusiveStartKey: { pk: 'P#p_2', sk: 'P' } },
    ]);
    expect(counts).toEqual({ profiles: 1, identities: 1, consent: 2, merges: 0, profile_orders: 0 });
    const expected = flattenProfileItems(items);
    expect([...puts.keys()].sort()).toEqual(Object.keys(expected).map(snapshotKey).sort());
    const profiles = (puts.get(snapshotKey('profiles')) ?? '')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(profiles).toEqual(expected.profiles);
    expect(puts.get(snapshotKey('merges'))).toBe('');
    dynamo.restore();
  });
});

describe('S3ObjectWriter', () => {
  it('puts the object into its bucket with the content type (the bucket encrypts it)', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    const writer = new S3ObjectWriter({ bucket: 'analytics-bucket', client: new S3Client({}) });
    await writer.put(
      'profiles/identities/snapshot.json.gz',
      new Uint8Array([1, 2, 3]),
      'application/x-ndjson',
    );
    expect(s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input)).toEqual([
      {
        Bucket: 'analytics-bucket',
        Key: 'profiles/identities/snapshot.json.gz',
        Body: new Uint8Array([1, 2, 3]),
        ContentType: 'application/x-ndjson',
      },
    ]);
    s3.restore();
  });

  it("fails with S3's error, so the scheduled run is retried", async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const writer = new S3ObjectWriter({ bucket: 'b', client: new S3Client({}) });
    await expect(writer.put('k', new Uint8Array(), 'text/plain')).rejects.toThrow(/Access Denied/);
    s3.restore();
  });
});
