/**
 * The Powertools idempotency persistence layer on DynamoDB, over {@link AwsJsonClient} instead of
 * the AWS SDK client (which alone was a third of an ingest bundle; see docs/bundles.md).
 *
 * Items, keys, conditions and attribute names are exactly those of Powertools'
 * `DynamoDBPersistenceLayer` (2.35.0), so records written by either are read by the other
 * (`core/aws/json-client.test.ts` checks this against dynalite). Values are marshalled as the
 * document client marshals them (`toAttributes` in `core/aws/dynamodb.ts`, `@aws-sdk/util-dynamodb`,
 * about 5 KB of the bundle and nothing else of the SDK).
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { IdempotencyRecordOptions } from '@aws-lambda-powertools/idempotency/types';
import { type AttributeMap, fromAttributes, toAttributes } from '../aws/dynamodb.ts';
import { AwsJsonClient, AwsServiceError, DYNAMODB } from '../aws/json-client.ts';

const KEY = 'id';
const STATUS = 'status';
const EXPIRY = 'expiration';
const IN_PROGRESS_EXPIRY = 'in_progress_expiration';
const DATA = 'data';
const VALIDATION = 'validation';

export interface JsonProtocolPersistenceLayerOptions {
  readonly tableName: string;
  /** @default a DynamoDB {@link AwsJsonClient} */
  readonly client?: AwsJsonClient;
}

/**
 * @example
 * const store = new JsonProtocolPersistenceLayer({ tableName: process.env.OMNIHUB_IDEMPOTENCY_TABLE });
 * new PowertoolsDeliveryLedger({ tableName, keyPrefix: 'ingest.shopify', store });
 */
export class JsonProtocolPersistenceLayer extends BasePersistenceLayer {
  readonly #table: string;
  readonly #client: AwsJsonClient;

  constructor(options: JsonProtocolPersistenceLayerOptions) {
    super();
    this.#table = options.tableName;
    this.#client = options.client ?? new AwsJsonClient(DYNAMODB);
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await this.#client.call('DeleteItem', { TableName: this.#table, Key: keyOf(record.idempotencyKey) });
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const result = await this.#client.call<{ Item?: AttributeMap }>('GetItem', {
      TableName: this.#table,
      Key: keyOf(idempotencyKey),
      ConsistentRead: true,
    });
    const record = result.Item && recordOf(result.Item);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const item = toAttributes({
      [KEY]: record.idempotencyKey,
      [EXPIRY]: record.expiryTimestamp,
      [STATUS]: record.getStatus(),
      [IN_PROGRESS_EXPIRY]: record.inProgressExpiryTimestamp,
      [VALIDATION]: this.isPayloadValidationEnabled() ? record.payloadHash : undefined,
    });
    const now = Date.now();
    try {
      await this.#client.call('PutItem', {
        TableName: this.#table,
        Item: item,
        ExpressionAttributeNames: {
          '#id': KEY,
          '#expiry': EXPIRY,
          '#in_progress_expiry': IN_PROGRESS_EXPIRY,
          '#status': STATUS,
        },
        ExpressionAttributeValues: toAttributes({
          ':now': now / 1000,
          ':now_in_millis': now,
          ':inprogress': IdempotencyRecordStatus.INPROGRESS,
        }),
        // New key, expired record, or an in-progress record whose invocation ran out of time.
        ConditionExpression:
          'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    } catch (error) {
      if (error instanceof AwsServiceError && error.name === 'ConditionalCheckFailedException') {
        const existing = error.details.Item as AttributeMap | undefined;
        throw new IdempotencyItemAlreadyExistsError(
          `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
          existing ? recordOf(existing) : undefined,
        );
      }
      throw error;
    }
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const fields = ['#expiry = :expiry', '#status = :status'];
    const names: Record<string, string> = { '#expiry': EXPIRY, '#status': STATUS };
    const values: Record<string, unknown> = {
      ':expiry': record.expiryTimestamp,
      ':status': record.getStatus(),
    };
    if (record.responseData !== undefined) {
      fields.push('#response_data = :response_data');
      names['#response_data'] = DATA;
      values[':response_data'] = record.responseData;
    }
    if (this.isPayloadValidationEnabled()) {
      fields.push('#validation_key = :validation_key');
      names['#validation_key'] = VALIDATION;
      values[':validation_key'] = record.payloadHash ?? null;
    }
    await this.#client.call('UpdateItem', {
      TableName: this.#table,
      Key: keyOf(record.idempotencyKey),
      UpdateExpression: `SET ${fields.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: toAttributes(values),
    });
  }
}

function keyOf(idempotencyKey: string): AttributeMap {
  return toAttributes({ [KEY]: idempotencyKey });
}

function recordOf(attributes: AttributeMap): IdempotencyRecord | undefined {
  const item = fromAttributes(attributes);
  const idempotencyKey = item[KEY];
  if (typeof idempotencyKey !== 'string') return undefined;
  return new IdempotencyRecord({
    idempotencyKey,
    status: item[STATUS] as IdempotencyRecordOptions['status'],
    expiryTimestamp: item[EXPIRY] as number | undefined,
    inProgressExpiryTimestamp: item[IN_PROGRESS_EXPIRY] as number | undefined,
    responseData: item[DATA] as IdempotencyRecordOptions['responseData'],
    payloadHash: item[VALIDATION] as string | undefined,
  });
}
