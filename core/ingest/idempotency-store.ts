/**
 * The Powertools idempotency persistence layer on DynamoDB, over {@link AwsJsonClient} instead of
 * the AWS SDK client (which alone was a third of an ingest bundle; see docs/bundles.md).
 *
 * Items, keys, conditions and attribute names are exactly those of Powertools'
 * `DynamoDBPersistenceLayer` (2.35.0), so records written by either are read by the other
 * (`core/aws/json-client.test.ts` checks this against dynalite).
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { IdempotencyRecordOptions } from '@aws-lambda-powertools/idempotency/types';
import { AwsJsonClient, AwsServiceError, DYNAMODB } from '../aws/json-client.ts';

/** A DynamoDB attribute value, for the JSON-like values idempotency records hold. */
export type AttributeValue =
  | { S: string }
  | { N: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { L: AttributeValue[] }
  | { M: Record<string, AttributeValue> };

/** JSON-like value -> DynamoDB attribute value (undefined fields are left out, as `removeUndefinedValues`). */
export function toAttribute(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (typeof value === 'object') {
    const map: Record<string, AttributeValue> = {};
    for (const [key, field] of Object.entries(value)) if (field !== undefined) map[key] = toAttribute(field);
    return { M: map };
  }
  throw new TypeError(`cannot store a ${typeof value} in an idempotency record`);
}

/** DynamoDB attribute value -> JSON-like value. */
export function fromAttribute(attribute: unknown): unknown {
  const value = attribute as Partial<Record<string, unknown>>;
  if (typeof value.S === 'string') return value.S;
  if (typeof value.N === 'string') return Number(value.N);
  if (typeof value.BOOL === 'boolean') return value.BOOL;
  if (value.NULL === true) return null;
  if (Array.isArray(value.L)) return value.L.map(fromAttribute);
  if (value.M && typeof value.M === 'object') {
    return Object.fromEntries(Object.entries(value.M).map(([key, field]) => [key, fromAttribute(field)]));
  }
  return undefined;
}

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
    const result = await this.#client.call<{ Item?: Record<string, unknown> }>('GetItem', {
      TableName: this.#table,
      Key: keyOf(idempotencyKey),
      ConsistentRead: true,
    });
    const record = result.Item && recordOf(result.Item);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...keyOf(record.idempotencyKey),
      [EXPIRY]: toAttribute(record.expiryTimestamp),
      [STATUS]: toAttribute(record.getStatus()),
    };
    if (record.inProgressExpiryTimestamp !== undefined) {
      item[IN_PROGRESS_EXPIRY] = { N: String(record.inProgressExpiryTimestamp) };
    }
    if (this.isPayloadValidationEnabled() && record.payloadHash !== undefined) {
      item[VALIDATION] = { S: record.payloadHash };
    }
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
        ExpressionAttributeValues: {
          ':now': toAttribute(now / 1000),
          ':now_in_millis': toAttribute(now),
          ':inprogress': toAttribute(IdempotencyRecordStatus.INPROGRESS),
        },
        // New key, expired record, or an in-progress record whose invocation ran out of time.
        ConditionExpression:
          'attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    } catch (error) {
      if (error instanceof AwsServiceError && error.name === 'ConditionalCheckFailedException') {
        const existing = error.details.Item as Record<string, unknown> | undefined;
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
    const values: Record<string, AttributeValue> = {
      ':expiry': toAttribute(record.expiryTimestamp),
      ':status': toAttribute(record.getStatus()),
    };
    if (record.responseData !== undefined) {
      fields.push('#response_data = :response_data');
      names['#response_data'] = DATA;
      values[':response_data'] = toAttribute(record.responseData);
    }
    if (this.isPayloadValidationEnabled()) {
      fields.push('#validation_key = :validation_key');
      names['#validation_key'] = VALIDATION;
      values[':validation_key'] = toAttribute(record.payloadHash ?? null);
    }
    await this.#client.call('UpdateItem', {
      TableName: this.#table,
      Key: keyOf(record.idempotencyKey),
      UpdateExpression: `SET ${fields.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
  }
}

function keyOf(idempotencyKey: string): Record<string, AttributeValue> {
  return { [KEY]: { S: idempotencyKey } };
}

function recordOf(item: Record<string, unknown>): IdempotencyRecord | undefined {
  const value = (name: string) => (item[name] === undefined ? undefined : fromAttribute(item[name]));
  const idempotencyKey = value(KEY);
  if (typeof idempotencyKey !== 'string') return undefined;
  return new IdempotencyRecord({
    idempotencyKey,
    status: value(STATUS) as IdempotencyRecordOptions['status'],
    expiryTimestamp: value(EXPIRY) as number | undefined,
    inProgressExpiryTimestamp: value(IN_PROGRESS_EXPIRY) as number | undefined,
    responseData: value(DATA) as IdempotencyRecordOptions['responseData'],
    payloadHash: value(VALIDATION) as string | undefined,
  });
}
