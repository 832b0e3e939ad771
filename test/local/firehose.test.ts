/**
 * The local hub's Firehose emulation, driven by the real @aws-sdk/client-firehose: the raw archive's
 * Direct PUT streams (one per connector), records on disk in the S3 destination's partitioning, the
 * limits AWS checks, `GET /local/raw`, and the retention sweep. A signed webhook ends up there as
 * received.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRawDeliveries } from '../../core/ingest/raw-archive.ts';
import { generateWebhookKeys, signWebhook } from '../../demo/vendor-webhooks.ts';
import { hourPartition, LocalRawStore } from '../../local/firehose/raw-store.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';

const PUBLIC_URL = 'https://hooks.example.com';
const keys = generateWebhookKeys(PUBLIC_URL);
const dataDir = mkdtempSync(join(tmpdir(), 'omnihub-firehose-'));
let hub: LocalHub;
let firehose: FirehoseClient;

beforeAll(async () => {
  hub = await startLocalHub({
    port: 0,
    dataDir,
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    consumers: 'paused',
    log: () => {},
  });
  firehose = new FirehoseClient({
    endpoint: hub.url,
    region: hub.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  firehose?.destroy();
  await hub?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const partitionFile = (connector: string, at: number, stream: string) =>
  join(dataDir, 'raw', connector, hourPartition(at), `${stream}.jsonl`);

describe('Local hub: Firehose', () => {
  it('describes one active Direct PUT stream per connector, partitioned by connector and hour', async () => {
    const described = await firehose.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'omnihub-raw-sendgrid' }),
    );
    expect(described.DeliveryStreamDescription).toMatchObject({
      DeliveryStreamName: 'omnihub-raw-sendgrid',
      DeliveryStreamARN: `arn:aws:firehose:${hub.region}:${hub.accountId}:deliverystream/omnihub-raw-sendgrid`,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: 'DirectPut',
      HasMoreDestinations: false,
      Destinations: [
        {
          ExtendedS3DestinationDescription: {
            Prefix: 'raw/sendgrid/!{timestamp:yyyy/MM/dd/HH}/',
            BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
          },
        },
      ],
    });
    expect(described.DeliveryStreamDescription?.CreateTimestamp).toBeInstanceOf(Date);
    await expect(
      firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'omnihub-raw-mailchimp' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('writes PutRecordBatch and PutRecord records to disk as given, before answering', async () => {
    const before = Date.now();
    const batch = await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'omnihub-raw-twilio',
        Records: [{ Data: Buffer.from('{"n":1}\n') }, { Data: Buffer.from('{"n":2}\n') }],
      }),
    );
    expect(batch.FailedPutCount).toBe(0);
    expect(batch.RequestResponses?.map((response) => typeof response.RecordId)).toEqual(['string', 'string']);
    const single = await firehose.send(
      new PutRecordCommand({
        DeliveryStreamName: 'omnihub-raw-twilio',
        Record: { Data: Buffer.from('tail') },
      }),
    );
    expect(single.RecordId).toMatch(/^[0-9a-f]{56}$/);
    const after = Date.now();
    const file = [before, after]
      .map((at) => partitionFile('twilio', at, 'omnihub-raw-twilio'))
      .find((path) => existsSync(path));
    if (!file) throw new Error('no partition file');
    expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\ntail');
  });

  it('refuses what AWS refuses: an unknown stream, more than 500 records, a record over 1,000 KiB', async () => {
    await expect(
      firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: 'nope', Records: [{ Data: Buffer.from('x') }] }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      firehose.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'omnihub-raw-twilio',
          Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('x') })),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('500') });
    await expect(
      firehose.send(
        new PutRecordCommand({
          DeliveryStreamName: 'omnihub-raw-twilio',
          Record: { Data: Buffer.alloc(1000 * 1024 + 1) },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('archives a signed webhook as received, and serves it at GET /local/raw for re-translation', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const body = JSON.stringify({
      merchant_id: 'ML1',
      type: 'customer.created',
      event_id: 'b3a2c1d0-raw-archive',
      created_at: '2025-06-01T10:00:00Z',
      data: {
        type: 'customer',
        id: 'C1',
        object: { customer: { id: 'C1', email_address: 'ada@example.com' } },
      },
    });
    const request = signWebhook({ connector: 'square', body }, keys);
    const response = await fetch(`${hub.url}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    expect(response.status).toBe(200);
    const to = new Date(Date.now() + 1000).toISOString();
    const raw = await fetch(`${hub.url}/local/raw?connector=square&from=${from}&to=${to}`);
    expect(raw.headers.get('content-type')).toBe('application/x-ndjson');
    const deliveries = readRawDeliveries((await raw.text()).split('\n'), { from: new Date(from) });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.request.body.toString()).toBe(body);
    expect(deliveries[0]?.request.publicUrl).toBe(`${PUBLIC_URL}/webhooks/square`);
    expect(Object.keys(deliveries[0]?.request.headers ?? {})).toEqual(['content-type']);

    const bad = await fetch(`${hub.url}/local/raw?from=yesterday&to=${to}`);
    expect(bad.status).toBe(400);
  });

  it('sweeps the hours past the retention, on disk and in memory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'omnihub-raw-sweep-'));
    let now = Date.UTC(2025, 5, 1, 10, 30);
    for (const rootDir of [root, undefined]) {
      const store = new LocalRawStore({ root: rootDir, retentionDays: 2, now: () => now });
      now = Date.UTC(2025, 5, 1, 10, 30);
      await store.append('shopify', 'omnihub-raw-shopify', [Buffer.from('old\n')]);
      now = Date.UTC(2025, 5, 2, 9, 0);
      await store.append('shopify', 'omnihub-raw-shopify', [Buffer.from('new\n')]);
      const everything = { from: Date.UTC(2025, 5, 1), to: Date.UTC(2025, 5, 3) };
      expect(Buffer.concat(store.read(everything)).toString()).toBe('old\nnew\n');
      // Two days after the end of the first hour, it goes; the second stays.
      now = Date.UTC(2025, 5, 3, 11, 0);
      store.sweep();
      expect(Buffer.concat(store.read(everything)).toString()).toBe('new\n');
      await store.close();
    }
    expect(readdirSync(join(root, 'shopify', '2025', '06'))).toEqual(['02']);
    rmSync(root, { recursive: true, force: true });
  });
});
