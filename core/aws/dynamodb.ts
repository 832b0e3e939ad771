/**
 * A DynamoDB document client without the AWS SDK: the item operations the profile store and the sync
 * state make (GetItem, PutItem, UpdateItem, DeleteItem, BatchGetItem, Query), over the AWS JSON 1.0
 * protocol with {@link AwsJsonClient} (SigV4, SDK-style endpoint/region/credentials, standard-mode
 * retries), with plain JavaScript values marshalled by `@aws-sdk/util-dynamodb` exactly as
 * `DynamoDBDocumentClient` with `removeUndefinedValues: true` marshals them.
 *
 * Why: the SDK's DynamoDB client and its dependencies were about 390 KB of each consumer and API
 * bundle and most of their cold start (docs/bundles.md); `@aws-sdk/util-dynamodb` is 5 KB and
 * depends on nothing of the SDK's core.
 *
 * Inputs and outputs have the shape of the SDK document client's commands (`GetCommandInput`, ...),
 * so code reads the same; a failed condition is an error named `ConditionalCheckFailedException`
 * (see {@link isConditionFailed}), as the SDK's is.
 */
import { marshall, type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { exponentialBackoff, retry } from '../retry.ts';
import { type AwsClientOptions, jsonClientOf } from './client.ts';
import { type AwsJsonClient, AwsServiceError, DYNAMODB } from './json-client.ts';

/** An item or key as plain JavaScript values (the SDK document client's item type). */
export type DocumentItem = Record<string, NativeAttributeValue>;

/** An item or key as DynamoDB attribute values (`{ S: ... }`, `{ N: ... }`, ...), as the wire carries it. */
export type AttributeMap = Record<string, unknown>;

/** `TOTAL` / `INDEXES` make DynamoDB report `ConsumedCapacity` in the answer. */
export type ReturnConsumedCapacity = 'INDEXES' | 'TOTAL' | 'NONE';

export interface ConsumedCapacity {
  readonly TableName?: string;
  readonly CapacityUnits?: number;
  readonly ReadCapacityUnits?: number;
  readonly WriteCapacityUnits?: number;
}

interface Expressions {
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  /** Plain values, marshalled. */
  readonly ExpressionAttributeValues?: Readonly<Record<string, unknown>>;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface GetInput {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface PutInput extends Expressions {
  readonly TableName: string;
  readonly Item: DocumentItem;
  readonly ConditionExpression?: string;
}

export interface UpdateInput extends Expressions {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
}

export interface DeleteInput extends Expressions {
  readonly TableName: string;
  readonly Key: DocumentItem;
  readonly ConditionExpression?: string;
}

export interface QueryInput extends Expressions {
  readonly TableName: string;
  readonly IndexName?: string;
  readonly KeyConditionExpression: string;
  readonly FilterExpression?: string;
  readonly ProjectionExpression?: string;
  readonly ScanIndexForward?: boolean;
  readonly ConsistentRead?: boolean;
  readonly Limit?: number;
  readonly ExclusiveStartKey?: DocumentItem;
}

export interface BatchGetInput {
  readonly TableName: string;
  /** Any number of keys: they are read 100 per call. */
  readonly Keys: readonly DocumentItem[];
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Readonly<Record<string, string>>;
  readonly ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface WriteOutput {
  /** With `ReturnValues` (update) or a delete/put asked for old values. */
  readonly Attributes?: DocumentItem;
  readonly ConsumedCapacity?: ConsumedCapacity;
}

export interface QueryOutput {
  readonly Items: DocumentItem[];
  /** Set when there may be more: pass it as `ExclusiveStartKey` for the next page. */
  readonly LastEvaluatedKey?: DocumentItem;
  readonly ConsumedCapacity?: ConsumedCapacity;
}

/** BatchGetItem takes at most 100 keys per call. */
export const MAX_BATCH_GET_KEYS = 100;

export interface DynamoDocumentClientOptions extends AwsClientOptions {
  /** Calls for keys BatchGetItem left unprocessed, the first included, before giving up. @default 8 */
  readonly batchGetAttempts?: number;
  /** Base delay of the backoff between those calls. @default 50 */
  readonly batchGetBaseDelayMs?: number;
}

/**
 * Whether an error is DynamoDB's refusal of a condition (from this client or the AWS SDK's).
 *
 * @example
 * try { await db.put({ TableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }); }
 * catch (error) { if (!isConditionFailed(error)) throw error; }
 */
export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * @example
 * const db = new DynamoDocumentClient();   // endpoint, region and credentials from process.env
 * const { Item } = await db.get({ TableName: 'profiles', Key: { pk: 'P#1', sk: 'P' }, ConsistentRead: true });
 */
export class DynamoDocumentClient {
  readonly #client: AwsJsonClient;
  readonly #batchGetAttempts: number;
  readonly #batchGetBaseDelayMs: number;

  constructor(options: DynamoDocumentClientOptions = {}) {
    this.#client = jsonClientOf(DYNAMODB, options);
    this.#batchGetAttempts = options.batchGetAttempts ?? 8;
    this.#batchGetBaseDelayMs = options.batchGetBaseDelayMs ?? 50;
  }

  async get(input: GetInput): Promise<{ Item?: DocumentItem; ConsumedCapacity?: ConsumedCapacity }> {
    const { Key, ...rest } = input;
    const result = await this.#client.call<{ Item?: AttributeMap; ConsumedCapacity?: ConsumedCapacity }>(
      'GetItem',
      { ...rest, Key: toAttributes(Key) },
    );
    return {
      ...(result.Item ? { Item: fromAttributes(result.Item) } : {}),
      ...(result.ConsumedCapacity ? { ConsumedCapacity: result.ConsumedCapacity } : {}),
    };
  }

  async put(input: PutInput): Promise<WriteOutput> {
    const { Item, ExpressionAttributeValues, ...rest } = input;
    return writeOutput(
      await this.#client.call('PutItem', {
        ...rest,
        Item: toAttributes(Item),
        ...valuesOf(ExpressionAttributeValues),
      }),
    );
  }

  update(input: UpdateInput): Promise<WriteOutput> {
    return this.#writeByKey('UpdateItem', input);
  }

  delete(input: DeleteInput): Promise<WriteOutput> {
    return this.#writeByKey('DeleteItem', input);
  }

  async #writeByKey(operation: 'UpdateItem' | 'DeleteItem', input: UpdateInput | DeleteInput) {
    const { Key, ExpressionAttributeValues, ...rest } = input;
    return writeOutput(
      await this.#client.call(operation, {
        ...rest,
        Key: toAttributes(Key),
        ...valuesOf(ExpressionAttributeValues),
      }),
    );
  }

  /** One page of a query; `LastEvaluatedKey` is set when there may be more. */
  async query(input: QueryInput): Promise<QueryOutput> {
    const { ExpressionAttributeValues, ExclusiveStartKey, ...rest } = input;
    const result = await this.#client.call<{
      Items?: AttributeMap[];
      LastEvaluatedKey?: AttributeMap;
      ConsumedCapacity?: ConsumedCapacity;
    }>('Query', {
      ...rest,
      ...valuesOf(ExpressionAttributeValues),
      ...(ExclusiveStartKey ? { ExclusiveStartKey: toAttributes(ExclusiveStartKey) } : {}),
    });
    return {
      Items: (result.Items ?? []).map(fromAttributes),
      ...(result.LastEvaluatedKey ? { LastEvaluatedKey: fromAttributes(result.LastEvaluatedKey) } : {}),
      ...(result.ConsumedCapacity ? { ConsumedCapacity: result.ConsumedCapacity } : {}),
    };
  }

  /**
   * Every page of a query, one after the other (`Limit` is the size of each page).
   *
   * @example
   * for await (const page of db.queryPages({ TableName, KeyConditionExpression: 'pk = :pk', ... })) ...
   */
  async *queryPages(input: QueryInput): AsyncGenerator<QueryOutput> {
    let start = input.ExclusiveStartKey;
    do {
      const page = await this.query({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) });
      yield page;
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /**
   * The items of any number of keys of one table, read 100 keys per BatchGetItem call; keys the
   * service leaves unprocessed (throttling, 16 MB answers) are asked again with exponential backoff,
   * as AWS recommends, and an error is thrown if some are still unprocessed after the last attempt.
   * Items come back in no particular order; keys without an item are simply absent.
   */
  async batchGet(
    input: BatchGetInput,
  ): Promise<{ Items: DocumentItem[]; ConsumedCapacity: ConsumedCapacity[] }> {
    const { TableName, Keys, ReturnConsumedCapacity, ...perTable } = input;
    const items: DocumentItem[] = [];
    const consumed: ConsumedCapacity[] = [];
    for (let start = 0; start < Keys.length; start += MAX_BATCH_GET_KEYS) {
      let keys: unknown[] = Keys.slice(start, start + MAX_BATCH_GET_KEYS).map(toAttributes);
      await retry(
        async () => {
          const result = await this.#client.call<{
            Responses?: Record<string, AttributeMap[]>;
            UnprocessedKeys?: Record<string, { Keys?: unknown[] }>;
            ConsumedCapacity?: ConsumedCapacity[];
          }>('BatchGetItem', {
            RequestItems: { [TableName]: { ...perTable, Keys: keys } },
            ...(ReturnConsumedCapacity ? { ReturnConsumedCapacity } : {}),
          });
          for (const item of result.Responses?.[TableName] ?? []) items.push(fromAttributes(item));
          consumed.push(...(result.ConsumedCapacity ?? []));
          keys = result.UnprocessedKeys?.[TableName]?.Keys ?? [];
          if (keys.length > 0) throw new KeysUnprocessed();
        },
        {
          attempts: this.#batchGetAttempts,
          // Before call n: full jitter over batchGetBaseDelayMs × 2^(n-1).
          backoff: exponentialBackoff({ firstMs: 2 * this.#batchGetBaseDelayMs }),
          retryable: (error) => error instanceof KeysUnprocessed,
          giveUp: () =>
            new AwsServiceError(
              'UnprocessedKeysError',
              `BatchGetItem left ${keys.length} keys of ${TableName} unprocessed after ${this.#batchGetAttempts} calls`,
              {},
            ),
        },
      );
    }
    return { Items: items, ConsumedCapacity: consumed };
  }
}

/**
 * Plain values -> attribute values, as the SDK document client with `removeUndefinedValues`: the
 * hub's one marshaller (the idempotency store writes its raw JSON-protocol items with it too).
 *
 * @example
 * toAttributes({ id: 'k', expiration: 1700000000 }); // { id: { S: 'k' }, expiration: { N: '1700000000' } }
 */
export function toAttributes(item: Readonly<DocumentItem>): AttributeMap {
  return marshall(item, { removeUndefinedValues: true }) as AttributeMap;
}

/** Attribute values -> plain values (numbers as numbers), as the SDK document client reads them. */
export function fromAttributes(attributes: AttributeMap): DocumentItem {
  return unmarshall(attributes as Parameters<typeof unmarshall>[0]);
}

function valuesOf(values: Readonly<Record<string, unknown>> | undefined) {
  return values ? { ExpressionAttributeValues: toAttributes(values) } : {};
}

function writeOutput(result: {
  Attributes?: AttributeMap;
  ConsumedCapacity?: ConsumedCapacity;
}): WriteOutput {
  return {
    ...(result.Attributes ? { Attributes: fromAttributes(result.Attributes) } : {}),
    ...(result.ConsumedCapacity ? { ConsumedCapacity: result.ConsumedCapacity } : {}),
  };
}

/** BatchGetItem answered with keys it did not process; only those are asked again. */
class KeysUnprocessed extends Error {}
