/**
 * Cost per million webhooks on AWS : the AWS requests each path makes, counted
 * from the other benchmarks' measurements, times list prices.
 *
 * Paths: ingest (HTTP API -> ingest Lambda -> ledger on DynamoDB -> PutEvents, and the raw archive:
 * Firehose -> S3) and profile update
 * (rule -> SQS -> profile writer Lambda -> DynamoDB -> PutEvents `profile.updated`). The typical
 * webhook is one vendor delivery yielding one canonical event about a known person (a small
 * payload of the inbound benchmark, the "known identity" row of the units benchmark).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { WebhookRequest } from '../core/connector.ts';
import { rawRecordsOf } from '../core/ingest/raw-archive.ts';
import type { UnitsRow } from './dynamo-units.ts';
import type { InboundRow } from './inbound.ts';

/** us-east-1 list prices (aws.amazon.com/<service>/pricing), as of 2025-11; free tiers ignored. */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025-11 (list prices; DynamoDB on-demand after the Nov 2024 cut)',
  httpApiPerMillion: 1.0,
  lambdaRequestsPerMillion: 0.2,
  /** arm64, first 6 B GB-s tier. */
  lambdaGbSecond: 0.0000133334,
  eventBridgeCustomEventsPerMillion: 1.0,
  /** Archive: per GB of events archived (storage $0.023/GB-month not included). */
  eventBridgeArchivePerGb: 0.1,
  sqsRequestsPerMillion: 0.4,
  dynamoWriteRequestUnitPerMillion: 0.625,
  dynamoReadRequestUnitPerMillion: 0.125,
  cloudWatchLogsIngestPerGb: 0.5,
  /** Direct PUT ingestion, first 500 TB/month; each record billed in 5 KB increments. */
  firehoseIngestPerGb: 0.029,
  firehoseRecordIncrementBytes: 5 * 1024,
  /** S3 Standard storage, first 50 TB/month. */
  s3StoragePerGbMonth: 0.023,
  s3PutPerThousand: 0.005,
} as const;

/**
 * What is not measured here and is assumed: in-region service latencies while a Lambda waits
 * (billed duration), the CPU share of a 256 MB function, log volume per invocation.
 */
export const ASSUMPTIONS = {
  memoryMiB: 256,
  /** Lambda gives one vCPU at 1,769 MB, proportionally less below: CPU-bound time stretches. */
  cpuStretch: 1769 / 256,
  dynamoDbCallMs: 5,
  putEventsCallMs: 20,
  sqsBatchSize: 10,
  /** START/END/REPORT + one INFO line + one EMF metrics document per ingest invocation. */
  ingestLogBytes: 1_200,
  /** Same per profile-writer batch of 10. */
  consumerLogBytesPerBatch: 1_500,
  /** Canonical event size in the archive. */
  eventBytes: 1_500,
  /** The raw archive's budget is stated for deliveries of at most this size. */
  rawDeliveryBytes: 5 * 1024,
  rawRetentionDays: 30,
  /** One Firehose stream per connector. */
  rawStreams: 5,
  /** Firehose flushes a buffer every 15 minutes (or 128 MB) while a stream receives anything. */
  rawBufferSeconds: 900,
  rawBufferBytes: 128 * 1024 * 1024,
  /** The million arrives over this many days: S3 PUTs are per buffer, not per delivery. */
  rawDaysPerMillion: 1,
};

/** The raw archive's part of the cost per million deliveries of {@link ASSUMPTIONS.rawDeliveryBytes}. */
export interface RawArchiveCost {
  /** Worst ratio gzip(body) / body among the fixtures' JSON and form bodies of 1 KB or more. */
  readonly gzipRatio: number;
  /** The record of a delivery of `rawDeliveryBytes` at that ratio, and what Firehose bills for it. */
  readonly recordBytes: number;
  readonly billedBytes: number;
  /** What S3 keeps of it after Firehose's GZIP (at the fixtures' worst ratio). */
  readonly storedBytes: number;
  readonly puts: number;
  readonly firehose: number;
  readonly storage: number;
  readonly putDollars: number;
  readonly total: number;
  /** S3 PUTs while every stream receives something all month, whatever the volume. */
  readonly putFloorPerMonth: number;
}

/** Request bodies of the connector fixtures (real-format JSON and form bodies). */
export function fixtureBodies(
  root = new URL('../connectors/', import.meta.url),
): Array<{ connector: string; request: WebhookRequest }> {
  const found: Array<{ connector: string; request: WebhookRequest }> = [];
  for (const connector of readdirSync(root)) {
    const folder = new URL(`${connector}/fixtures/`, root);
    if (!existsSync(folder)) continue;
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.json'))) {
      const fixture = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as {
        request?: { body?: string; headers?: Record<string, string> };
      };
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(fixture.request?.headers ?? {}))
        headers[name.toLowerCase()] = value;
      found.push({
        connector,
        request: {
          method: 'POST',
          path: `/webhooks/${connector}`,
          rawQueryString: '',
          headers,
          body: Buffer.from(fixture.request?.body ?? '', 'utf8'),
          publicUrl: `https://hooks.example.com/webhooks/${connector}`,
          receivedAt: new Date('2025-06-01T12:00:00.000Z'),
        },
      });
    }
  }
  return found;
}

/**
 * The raw archive per million deliveries: Firehose ingestion (one record each, billed in 5 KB
 * increments), S3 storage of the GZIPped objects for the retention, and the objects Firehose's
 * buffers write. Sizes come from the archive's own records (`rawRecordsOf`) of the fixtures, scaled to
 * a delivery of `rawDeliveryBytes` at the least compressible fixture's ratio.
 */
export function rawArchiveCost(bodies = fixtureBodies()): RawArchiveCost {
  const requestId = '00000000-0000-4000-8000-000000000000';
  const measured = bodies
    .filter(({ request }) => request.body.length >= 1024)
    .map(({ connector, request }) => {
      const [record] = rawRecordsOf(connector, request, requestId);
      const bodyGzip = gzipSync(request.body).length;
      return {
        gzipRatio: bodyGzip / request.body.length,
        // The record less its body: URL, headers, time, ids and the JSON around them.
        overhead: (record?.length ?? 0) - Math.ceil(bodyGzip / 3) * 4,
        fileRatio: record ? gzipSync(record).length / record.length : 1,
      };
    });
  const gzipRatio = Math.max(...measured.map((row) => row.gzipRatio));
  const overhead = Math.max(...measured.map((row) => row.overhead));
  const fileRatio = Math.max(...measured.map((row) => row.fileRatio));
  const recordBytes = overhead + Math.ceil((ASSUMPTIONS.rawDeliveryBytes * gzipRatio) / 3) * 4;
  const increment = PRICES.firehoseRecordIncrementBytes;
  const billedBytes = Math.ceil(recordBytes / increment) * increment;
  const storedBytes = Math.ceil(recordBytes * fileRatio);
  const M = 1_000_000;
  const months = ASSUMPTIONS.rawRetentionDays / 30;
  const buffersPerDay = ASSUMPTIONS.rawStreams * (86_400 / ASSUMPTIONS.rawBufferSeconds);
  const puts = Math.max(
    buffersPerDay * ASSUMPTIONS.rawDaysPerMillion,
    Math.ceil((M * storedBytes) / ASSUMPTIONS.rawBufferBytes),
  );
  const firehose = ((M * billedBytes) / 1e9) * PRICES.firehoseIngestPerGb;
  const storage = ((M * storedBytes) / 1e9) * months * PRICES.s3StoragePerGbMonth;
  const putDollars = (puts / 1000) * PRICES.s3PutPerThousand;
  return {
    gzipRatio,
    recordBytes,
    billedBytes,
    storedBytes,
    puts,
    firehose,
    storage,
    putDollars,
    total: firehose + storage + putDollars,
    putFloorPerMonth: ((buffersPerDay * 30) / 1000) * PRICES.s3PutPerThousand,
  };
}

export interface CostRow {
  readonly path: 'ingest' | 'profile update' | 'both';
  readonly item: string;
  readonly quantity: string;
  readonly dollars: number;
  /**
   * Set on what the design itself requires whatever the code does: the HTTP API request, the
   * Powertools idempotency record (reserve, then complete), the canonical event on the bus, the
   * rule's SQS send and the profile's own units. Their sum is the floor no optimisation of ours
   * goes below.
   */
  readonly fixed?: true;
}

export interface CostInputs {
  readonly inbound: readonly InboundRow[];
  readonly units: readonly UnitsRow[];
}

export function costPerMillion(inputs: CostInputs): {
  rows: CostRow[];
  total: number;
  /** The sum of the rows marked {@link CostRow.fixed}. */
  fixed: number;
  ingestMs: number;
  writerMs: number;
} {
  const small = inputs.inbound.filter((row) => row.size === 'small');
  const computeMs = small.length > 0 ? small.reduce((sum, row) => sum + row.ours, 0) / small.length : 1;
  const known = inputs.units.find((row) =>
    row.scenario.startsWith('profile writer: known identity (customer'),
  );
  const ledger = inputs.units.find((row) => row.scenario.startsWith('idempotency: new delivery'));
  const ledgerWcu = ledger?.wcu ?? 2;
  const ledgerRcu = ledger?.rcu ?? 0;
  // Without a units run (`--only=` without `units`): the known-identity path as measured (1 RCU, 2 WCU).
  const writerRcu = known?.rcu ?? 1;
  const writerWcu = known?.wcu ?? 2;
  const writerCalls = Object.values(known?.calls ?? { BatchGetItem: 1, GetItem: 1, PutItem: 2 }).reduce(
    (a, b) => a + b,
    0,
  );
  const announcements = known?.announced ?? 1;

  // Billed duration: CPU work stretched to the 256 MB share, plus waiting on AWS.
  const ingestMs = Math.ceil(
    computeMs * ASSUMPTIONS.cpuStretch + 2 * ASSUMPTIONS.dynamoDbCallMs + ASSUMPTIONS.putEventsCallMs,
  );
  const writerMs = Math.ceil(
    writerCalls * ASSUMPTIONS.dynamoDbCallMs +
      announcements * ASSUMPTIONS.putEventsCallMs +
      1 * ASSUMPTIONS.cpuStretch,
  );
  const gb = ASSUMPTIONS.memoryMiB / 1024;
  const M = 1_000_000;
  const raw = rawArchiveCost();
  const rows: CostRow[] = [
    {
      path: 'ingest',
      item: 'API Gateway HTTP API requests',
      quantity: '1 M',
      dollars: PRICES.httpApiPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'Lambda requests (ingest)',
      quantity: '1 M',
      dollars: PRICES.lambdaRequestsPerMillion,
    },
    {
      path: 'ingest',
      item: `Lambda duration (ingest, ${ingestMs} ms × ${ASSUMPTIONS.memoryMiB} MB)`,
      quantity: `${((M * ingestMs) / 1000) * gb} GB-s`,
      dollars: ((M * ingestMs) / 1000) * gb * PRICES.lambdaGbSecond,
    },
    {
      path: 'ingest',
      item: `DynamoDB ledger (${ledgerWcu} WRU + ${ledgerRcu} RRU per delivery)`,
      quantity: `${ledgerWcu} M WRU`,
      dollars:
        ledgerWcu * PRICES.dynamoWriteRequestUnitPerMillion +
        ledgerRcu * PRICES.dynamoReadRequestUnitPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'EventBridge PutEvents (1 event ≤ 64 KB)',
      quantity: '1 M events',
      dollars: PRICES.eventBridgeCustomEventsPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'EventBridge archive',
      quantity: `${((M * ASSUMPTIONS.eventBytes) / 1e9).toFixed(1)} GB`,
      dollars: ((M * ASSUMPTIONS.eventBytes) / 1e9) * PRICES.eventBridgeArchivePerGb,
    },
    {
      path: 'profile update',
      item: 'SQS requests (send by the rule, receive + delete per batch of 10)',
      quantity: `${1 + 2 / ASSUMPTIONS.sqsBatchSize} M`,
      dollars: (1 + 2 / ASSUMPTIONS.sqsBatchSize) * PRICES.sqsRequestsPerMillion,
      fixed: true,
    },
    {
      path: 'profile update',
      item: 'Lambda requests (profile writer, batches of 10)',
      quantity: `${1 / ASSUMPTIONS.sqsBatchSize} M`,
      dollars: PRICES.lambdaRequestsPerMillion / ASSUMPTIONS.sqsBatchSize,
    },
    {
      path: 'profile update',
      item: `Lambda duration (profile writer, ${writerMs} ms per event × ${ASSUMPTIONS.memoryMiB} MB)`,
      quantity: `${((M * writerMs) / 1000) * gb} GB-s`,
      dollars: ((M * writerMs) / 1000) * gb * PRICES.lambdaGbSecond,
    },
    {
      path: 'profile update',
      item: `DynamoDB profile (${writerRcu} RRU + ${writerWcu} WRU per known-identity event)`,
      quantity: `${writerRcu} M RRU + ${writerWcu} M WRU`,
      dollars:
        writerRcu * PRICES.dynamoReadRequestUnitPerMillion +
        writerWcu * PRICES.dynamoWriteRequestUnitPerMillion,
      fixed: true,
    },
    {
      path: 'profile update',
      item: `EventBridge PutEvents (${announcements} profile.updated per event)`,
      quantity: `${announcements} M events`,
      dollars: announcements * PRICES.eventBridgeCustomEventsPerMillion,
    },
    {
      path: 'ingest',
      item: `Raw archive: Firehose (1 record of ${(raw.recordBytes / 1024).toFixed(1)} KB, billed ${raw.billedBytes / 1024} KB) + S3 for ${ASSUMPTIONS.rawRetentionDays} days + PUTs`,
      quantity: `${((M * raw.billedBytes) / 1e9).toFixed(2)} GB × $${PRICES.firehoseIngestPerGb} + ${((M * raw.storedBytes) / 1e9).toFixed(2)} GB-month × $${PRICES.s3StoragePerGbMonth} + ${raw.puts} PUTs`,
      dollars: raw.total,
    },
    {
      path: 'both',
      item: 'CloudWatch Logs ingestion',
      quantity: `${((M * ASSUMPTIONS.ingestLogBytes + (M / ASSUMPTIONS.sqsBatchSize) * ASSUMPTIONS.consumerLogBytesPerBatch) / 1e9).toFixed(2)} GB`,
      dollars:
        ((M * ASSUMPTIONS.ingestLogBytes +
          (M / ASSUMPTIONS.sqsBatchSize) * ASSUMPTIONS.consumerLogBytesPerBatch) /
          1e9) *
        PRICES.cloudWatchLogsIngestPerGb,
    },
  ];
  return {
    rows,
    total: rows.reduce((sum, row) => sum + row.dollars, 0),
    fixed: rows.reduce((sum, row) => sum + (row.fixed ? row.dollars : 0), 0),
    ingestMs,
    writerMs,
  };
}
