/**
 * The raw archive: every verified delivery as it was received, kept `rawRetentionDays` so it can be
 * translated again (`omnihub retranslate`) whatever our schemas and translators made of it on the day.
 * In AWS through one Firehose Direct PUT stream per connector into S3 (GZIP, partitioned by connector
 * and hour); locally the hub's Firehose emulation writes the same records under its data directory.
 *
 * One delivery is one or more newline-terminated JSON records:
 *
 * `{"v":1,"connector","requestId","receivedAt","url","headers","part","parts","bodyGzip"}`
 *
 * `url`, `receivedAt` and `headers` are what `kept-request.ts` keeps; `bodyGzip` is the body gzipped,
 * base64. Gzipped in the record, not only in the file: Firehose bills each record rounded up to 5 KB,
 * and a 5 KB JSON body as text or base64 would be billed twice that (bench/cost.ts). A body whose
 * record would pass Firehose's 1,000 KiB limit (Shopify takes 4 MiB) is cut into parts that share the
 * `requestId`; readers put them back together ({@link readRawDeliveries}).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AwsClientOptions } from '../aws/client.ts';
import { FirehoseWriter } from '../aws/firehose.ts';
import type { WebhookRequest } from '../connector.ts';
import { type KeptRequest, keptRequestOf, requestOf } from './kept-request.ts';

/** The env var naming the raw archive streams: the stream of a connector is this prefix + its id. */
export const RAW_STREAM_PREFIX_ENV = 'OMNIHUB_RAW_STREAM_PREFIX';

/** Gzipped body bytes per record: with base64 and the other fields, well under Firehose's 1,000 KiB. */
const PART_BYTES = 512 * 1024;

/** One line of the archive. */
export interface RawRecord extends KeptRequest {
  readonly v: 1;
  readonly connector: string;
  readonly requestId: string;
  /** From 1. */
  readonly part: number;
  readonly parts: number;
  readonly bodyGzip: string;
}

/** A delivery read back from the archive: the request as the connector saw it. */
export interface RawDelivery {
  readonly connector: string;
  readonly requestId: string;
  readonly request: WebhookRequest;
}

/** Where ingest keeps verified deliveries. */
export interface RawArchive {
  /** Resolves once the delivery is durable (Firehose accepted every record of it). */
  keep(connector: string, request: WebhookRequest, requestId: string): Promise<void>;
}

/**
 * The records of one delivery, each a newline-terminated JSON line.
 *
 * @example
 * rawRecordsOf('shopify', request, context.awsRequestId); // [Buffer '{"v":1,"connector":"shopify",...}\n']
 */
export function rawRecordsOf(connector: string, request: WebhookRequest, requestId: string): Buffer[] {
  const kept = keptRequestOf(connector, request);
  const gzipped = gzipSync(request.body);
  const parts = Math.max(1, Math.ceil(gzipped.length / PART_BYTES));
  return Array.from({ length: parts }, (_, index) => {
    const record: RawRecord = {
      v: 1,
      connector,
      requestId,
      ...kept,
      part: index + 1,
      parts,
      bodyGzip: gzipped.subarray(index * PART_BYTES, (index + 1) * PART_BYTES).toString('base64'),
    };
    return Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  });
}

function isRawRecord(value: unknown): value is RawRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<RawRecord>;
  return (
    record.v === 1 &&
    typeof record.connector === 'string' &&
    typeof record.requestId === 'string' &&
    typeof record.receivedAt === 'string' &&
    typeof record.url === 'string' &&
    typeof record.bodyGzip === 'string' &&
    Number.isInteger(record.part) &&
    Number.isInteger(record.parts)
  );
}

export interface RawReadOptions {
  /** Only deliveries received at or after this instant. */
  readonly from?: Date;
  /** Only deliveries received before this instant. */
  readonly to?: Date;
  readonly connector?: string;
  /** Told of a line that is not a record (a file cut short by a crash, say). */
  readonly onUnreadable?: (line: string) => void;
}

/**
 * The deliveries in archive lines, parts put back together, each once (Firehose delivers at least
 * once), oldest first. Deliveries with a part missing are left out: their other parts may be in a
 * file not read (the next hour's).
 *
 * @example
 * const deliveries = readRawDeliveries(text.split('\n'), { from, to, connector: 'shopify' });
 */
export function readRawDeliveries(lines: Iterable<string>, options: RawReadOptions = {}): RawDelivery[] {
  const from = options.from?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = options.to?.getTime() ?? Number.POSITIVE_INFINITY;
  const byRequest = new Map<string, Map<number, RawRecord>>();
  for (const line of lines) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
    if (!isRawRecord(record)) {
      options.onUnreadable?.(line);
      continue;
    }
    if (options.connector !== undefined && record.connector !== options.connector) continue;
    const received = Date.parse(record.receivedAt);
    if (!(received >= from && received < to)) continue;
    const key = `${record.connector}\u0000${record.requestId}`;
    const parts = byRequest.get(key) ?? new Map<number, RawRecord>();
    parts.set(record.part, record);
    byRequest.set(key, parts);
  }
  const deliveries: RawDelivery[] = [];
  for (const parts of byRequest.values()) {
    const first = parts.get(1);
    if (!first || parts.size !== first.parts) continue;
    const gzipped = Buffer.concat(
      Array.from({ length: first.parts }, (_, index) =>
        Buffer.from(parts.get(index + 1)?.bodyGzip ?? '', 'base64'),
      ),
    );
    deliveries.push({
      connector: first.connector,
      requestId: first.requestId,
      request: requestOf(first, gunzipSync(gzipped)),
    });
  }
  return deliveries.sort(
    (a, b) =>
      a.request.receivedAt.getTime() - b.request.receivedAt.getTime() ||
      a.requestId.localeCompare(b.requestId),
  );
}

/**
 * The raw archive on Firehose: the connector's stream is `OMNIHUB_RAW_STREAM_PREFIX` + its id.
 *
 * @example
 * const archive = new FirehoseRawArchive({ streamPrefix: process.env.OMNIHUB_RAW_STREAM_PREFIX });
 */
export class FirehoseRawArchive implements RawArchive {
  readonly #writers = new Map<string, FirehoseWriter>();

  constructor(
    private readonly options: { readonly streamPrefix: string } & Pick<AwsClientOptions, 'client' | 'env'>,
  ) {}

  async keep(connector: string, request: WebhookRequest, requestId: string): Promise<void> {
    let writer = this.#writers.get(connector);
    if (!writer) {
      const { streamPrefix, ...client } = this.options;
      writer = new FirehoseWriter(`${streamPrefix}${connector}`, client);
      this.#writers.set(connector, writer);
    }
    await writer.put(rawRecordsOf(connector, request, requestId));
  }
}

/** The raw archive in memory, for tests and benchmarks of the pipeline alone: the records as lines. */
export class InMemoryRawArchive implements RawArchive {
  readonly lines: string[] = [];

  async keep(connector: string, request: WebhookRequest, requestId: string): Promise<void> {
    for (const record of rawRecordsOf(connector, request, requestId)) {
      this.lines.push(record.toString('utf8').trimEnd());
    }
  }
}
