/**
 * Amazon Data Firehose `PutRecordBatch` over the AWS JSON 1.1 protocol (`X-Amz-Target:
 * Firehose_20150804.PutRecordBatch`) with {@link AwsJsonClient}, for the ingest functions' raw
 * archive: no SDK client in their bundles (docs/bundles.md).
 *
 * A batch holds at most 500 records and 4 MiB; records are split into as many calls as that takes.
 * Firehose may refuse some records of a call (`FailedPutCount`, an `ErrorCode` per refused record,
 * typically `ServiceUnavailableException` under throttling): those are sent again with backoff, and
 * an error is thrown if some are still refused, so the caller does not acknowledge what is not kept.
 */
import { exponentialBackoff, retry } from '../retry.ts';
import { type AwsClientOptions, jsonClientOf } from './client.ts';
import { type AwsJsonClient, type AwsJsonService, AwsServiceError } from './json-client.ts';

export const FIREHOSE: AwsJsonService = {
  serviceId: 'Firehose',
  signingName: 'firehose',
  targetPrefix: 'Firehose_20150804',
  jsonVersion: '1.1',
};

/** PutRecordBatch limits. */
export const MAX_RECORDS_PER_CALL = 500;
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
/** The largest record Firehose takes, before base64 (1,000 KiB). */
export const MAX_RECORD_BYTES = 1000 * 1024;

interface PutRecordBatchOutput {
  readonly FailedPutCount?: number;
  readonly RequestResponses?: ReadonlyArray<{ readonly RecordId?: string; readonly ErrorCode?: string }>;
}

export interface FirehoseWriterOptions extends AwsClientOptions {
  /** Calls for records Firehose refused, the first included, before giving up. @default 4 */
  readonly attempts?: number;
  /** @default 50 */
  readonly baseDelayMs?: number;
}

/** Records (as bytes) into one delivery stream. */
export class FirehoseWriter {
  readonly #client: AwsJsonClient;
  readonly #attempts: number;
  readonly #baseDelayMs: number;

  constructor(
    readonly streamName: string,
    options: FirehoseWriterOptions = {},
  ) {
    this.#client = jsonClientOf(FIREHOSE, options);
    this.#attempts = options.attempts ?? 4;
    this.#baseDelayMs = options.baseDelayMs ?? 50;
  }

  /**
   * Puts every record; resolves once Firehose has accepted all of them.
   *
   * @example
   * await new FirehoseWriter('omnihub-prod-raw-shopify').put([Buffer.from('{"a":1}\n')]);
   */
  async put(records: readonly Buffer[]): Promise<void> {
    for (const record of records) {
      if (record.length > MAX_RECORD_BYTES) {
        throw new RangeError(`a Firehose record is at most ${MAX_RECORD_BYTES} bytes, got ${record.length}`);
      }
    }
    for (const batch of batchesOf(records)) await this.#putBatch(batch);
  }

  async #putBatch(records: readonly Buffer[]): Promise<void> {
    let pending = records;
    await retry(
      async () => {
        const result = await this.#client.call<PutRecordBatchOutput>('PutRecordBatch', {
          DeliveryStreamName: this.streamName,
          Records: pending.map((record) => ({ Data: record.toString('base64') })),
        });
        if (!result.FailedPutCount) return;
        const responses = result.RequestResponses ?? [];
        pending = pending.filter((_, index) => responses[index]?.ErrorCode !== undefined);
        throw new RecordsRefused(pending.length, responses.find((response) => response.ErrorCode)?.ErrorCode);
      },
      {
        attempts: this.#attempts,
        backoff: exponentialBackoff({ firstMs: 2 * this.#baseDelayMs }),
        retryable: (error): error is RecordsRefused => error instanceof RecordsRefused,
        giveUp: ({ error }) =>
          new AwsServiceError(
            'RecordsRefused',
            `Firehose refused ${error.count} record(s) of ${this.streamName} after ${this.#attempts} calls${error.code ? ` (${error.code})` : ''}`,
            {},
          ),
      },
    );
  }
}

/** Records in calls of at most 500 records and 4 MiB, in order. */
export function batchesOf(records: readonly Buffer[]): Buffer[][] {
  const batches: Buffer[][] = [];
  let current: Buffer[] = [];
  let bytes = 0;
  for (const record of records) {
    if (
      current.length === MAX_RECORDS_PER_CALL ||
      (current.length > 0 && bytes + record.length > MAX_BYTES_PER_CALL)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

class RecordsRefused extends Error {
  constructor(
    readonly count: number,
    readonly code: string | undefined,
  ) {
    super(`${count} record(s) refused`);
  }
}
