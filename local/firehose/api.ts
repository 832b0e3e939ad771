/**
 * Amazon Data Firehose's JSON 1.1 protocol (`X-Amz-Target: Firehose_20150804.<Operation>`), as
 * @aws-sdk/client-firehose 3.1169 sends it, for the raw archive's Direct PUT streams (one per
 * connector of the topology, `<bus>-raw-<connector>`): PutRecord, PutRecordBatch and
 * DescribeDeliveryStream. Records go to {@link LocalRawStore}, on disk before the call is answered.
 * Anything else answers `UnknownOperationException`: the streams come from the topology.
 *
 * Limits as AWS checks them: 1 to 500 records per batch, at most 1,000 KiB per record (decoded) and
 * 4 MiB per batch; an unknown stream is `ResourceNotFoundException`.
 */
import { randomBytes } from 'node:crypto';
import { AwsServiceError } from '../aws-json-protocol.ts';
import type { LocalRawStore } from './raw-store.ts';

type Input = Readonly<Record<string, unknown>>;

const MAX_RECORDS = 500;
const MAX_RECORD_BYTES = 1000 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** One Direct PUT stream of the raw archive. */
export interface LocalDeliveryStream {
  readonly name: string;
  readonly connector: string;
}

export interface FirehoseApiOptions {
  readonly streams: readonly LocalDeliveryStream[];
  readonly store: LocalRawStore;
  readonly region: string;
  readonly accountId: string;
}

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', `1 validation error detected: ${message}`);
}

/** Answers Firehose API operations for the topology's raw archive streams. */
export class FirehoseApi {
  readonly #streams: ReadonlyMap<string, LocalDeliveryStream>;
  readonly #createdAt = Math.floor(Date.now() / 1000);

  constructor(private readonly options: FirehoseApiOptions) {
    this.#streams = new Map(options.streams.map((stream) => [stream.name, stream]));
  }

  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'PutRecord': {
        const [id] = await this.#put(input, [input.Record]);
        return { RecordId: id, Encrypted: false };
      }
      case 'PutRecordBatch': {
        const records = input.Records;
        if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS) {
          throw validation(
            `Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${MAX_RECORDS}`,
          );
        }
        const ids = await this.#put(input, records);
        return { FailedPutCount: 0, Encrypted: false, RequestResponses: ids.map((id) => ({ RecordId: id })) };
      }
      case 'DescribeDeliveryStream':
        return this.#describe(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `The local hub does not serve Firehose ${operation}.`,
        );
    }
  }

  #stream(input: Input): LocalDeliveryStream {
    const name = input.DeliveryStreamName;
    if (typeof name !== 'string' || name === '') {
      throw validation(
        "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
      );
    }
    const stream = this.#streams.get(name);
    if (!stream) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Firehose ${name} under account ${this.options.accountId} not found.`,
      );
    }
    return stream;
  }

  async #put(input: Input, records: readonly unknown[]): Promise<string[]> {
    const stream = this.#stream(input);
    const decoded = records.map((record) => {
      const data = (record as { Data?: unknown } | undefined)?.Data;
      if (typeof data !== 'string') {
        throw validation("Value null at 'record.data' failed to satisfy constraint: Member must not be null");
      }
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length > MAX_RECORD_BYTES) {
        throw validation(
          `Value at 'record.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`,
        );
      }
      return bytes;
    });
    const total = decoded.reduce((sum, bytes) => sum + bytes.length, 0);
    if (total > MAX_BATCH_BYTES) {
      throw new AwsServiceError(
        'InvalidArgumentException',
        `Records size ${total} exceeds the limit of ${MAX_BATCH_BYTES} bytes per call.`,
      );
    }
    await this.options.store.append(stream.connector, stream.name, decoded);
    return decoded.map(() => randomBytes(28).toString('hex'));
  }

  #describe(input: Input): unknown {
    const stream = this.#stream(input);
    const { region, accountId } = this.options;
    return {
      DeliveryStreamDescription: {
        DeliveryStreamName: stream.name,
        DeliveryStreamARN: `arn:aws:firehose:${region}:${accountId}:deliverystream/${stream.name}`,
        DeliveryStreamStatus: 'ACTIVE',
        DeliveryStreamType: 'DirectPut',
        VersionId: '1',
        CreateTimestamp: this.#createdAt,
        DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
        Destinations: [
          {
            DestinationId: 'destinationId-000000000001',
            ExtendedS3DestinationDescription: {
              RoleARN: `arn:aws:iam::${accountId}:role/omnihub-local`,
              BucketARN: 'arn:aws:s3:::omnihub-local-raw-archive',
              Prefix: `raw/${stream.connector}/!{timestamp:yyyy/MM/dd/HH}/`,
              ErrorOutputPrefix: `raw-errors/${stream.connector}/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/`,
              BufferingHints: { SizeInMBs: 128, IntervalInSeconds: 900 },
              // Locally the partitions are plain JSON lines, written as they arrive.
              CompressionFormat: 'UNCOMPRESSED',
              EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
            },
          },
        ],
        HasMoreDestinations: false,
      },
    };
  }
}
