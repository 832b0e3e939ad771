/**
 * The quarantine: verified deliveries (and batch elements) that failed their topic's schema or
 * translator. Once a signature verifies the vendor has done its part, so such a delivery is kept here
 * with the reason and answered 2xx rather than refused: a refusal would make the vendor retry and then
 * drop it, and in a batch take its valid siblings down with it.
 *
 * An item is `{connector, deliveryId, topic, reason, receivedAt}` (`omnihub quarantine list`), plus
 * where the raw delivery is (`requestId`, `index`), and the element's own JSON text and the kept
 * request (`kept-request.ts`) when they fit DynamoDB's 400 KB item, so `omnihub retranslate
 * --quarantined` can retry it with a fixed translator. Reasons name the field and what was expected,
 * never a value: they are listed, logged and counted, and must carry no personal data.
 *
 * Writes are idempotent: a vendor's retry of a quarantined delivery finds its item there already.
 * Items expire with the raw archive (`rawRetentionDays`).
 */
import { createHash } from 'node:crypto';
import { type AttributeMap, fromAttributes, toAttributes } from '../aws/dynamodb.ts';
import { AwsJsonClient, AwsServiceError, DYNAMODB } from '../aws/json-client.ts';
import type { Delivery, WebhookRequest } from '../connector.ts';
import { redactPersonalData } from '../redact.ts';
import type { KeptRequest } from './kept-request.ts';
import { forEachLimited } from './ledger.ts';

/** What `omnihub quarantine list` shows of an item. */
export interface QuarantineItem {
  readonly connector: string;
  /** The delivery's vendor id; for a batch element without a readable one, `<request digest>#<index>`. */
  readonly deliveryId: string;
  /** The vendor topic, or `''` when the element did not say. */
  readonly topic: string;
  /** Which field and what was expected; never a value. */
  readonly reason: string;
  /** ISO 8601. */
  readonly receivedAt: string;
}

/** An item as the store keeps it. */
export interface QuarantineRecord extends QuarantineItem {
  /** The request the delivery came in (its raw archive record's id). */
  readonly requestId: string;
  /** The delivery's position among the request's deliveries. */
  readonly index: number;
  /** The delivery's own JSON text, when it fits the item. */
  readonly payload?: string;
  /** What a translator may read of the request, when the payload is kept. */
  readonly request?: KeptRequest;
  /** The parser could not read the element (no id or topic): only a re-parse of the request retries it. */
  readonly unreadable?: true;
}

/** Where ingest puts quarantined deliveries. */
export interface QuarantineStore {
  /** Keeps each record unless its key is there already; resolves with how many were new. */
  keep(records: readonly QuarantineRecord[]): Promise<number>;
}

/** What the CLI and the local hub do with the quarantine besides adding to it. */
export interface QuarantineReader {
  list(options?: { readonly connector?: string }): Promise<QuarantineRecord[]>;
  remove(connector: string, deliveryId: string): Promise<void>;
}

/** DynamoDB's item limit, less room for the attribute names and the other fields' overhead. */
const MAX_ITEM_BYTES = 400 * 1024 - 2048;
/** Puts at once per request. */
const CONCURRENCY = 16;

/**
 * Issues of a zod parse as `path: message`, at most three: which field and what was expected. zod's
 * messages name types and bounds, never the value received.
 *
 * @example
 * describeIssues([{ path: ['total_price'], message: 'Invalid input: expected string, received undefined' }]);
 * // 'total_price: Invalid input: expected string, received undefined'
 */
export function describeIssues(
  issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }>,
): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/** A request's id for its elements that have none: the first 16 hex digits of the body's SHA-256 (a retry has the same). */
export function requestDigest(request: WebhookRequest): string {
  return createHash('sha256').update(request.body).digest('hex').slice(0, 16);
}

/**
 * The delivery a batch parser returns for an element it cannot read: its own vendor id and topic
 * where it has them, else `<request digest>#<index>` and `''`; the pipeline quarantines it.
 *
 * @example
 * const parsed = BatchElement.safeParse(element);
 * if (!parsed.success) return unreadableElement(request, index, element, describeIssues(parsed.error.issues));
 */
export function unreadableElement(
  request: WebhookRequest,
  index: number,
  element: unknown,
  reason: string,
  known: { readonly deliveryId?: string; readonly topic?: string } = {},
): Delivery {
  return {
    deliveryId: known.deliveryId ?? `${requestDigest(request)}#${index}`,
    topic: known.topic ?? '',
    payload: element,
    unreadable: reason,
  };
}

/**
 * The record of a delivery that failed: the reason passes the personal-data redactor too, in case a
 * translator's own message quoted what it refused.
 */
export function quarantineRecordOf(fields: {
  readonly connector: string;
  readonly delivery: Delivery;
  readonly index: number;
  readonly reason: string;
  readonly requestId: string;
  readonly request: KeptRequest;
}): QuarantineRecord {
  const { connector, delivery, index, requestId, request } = fields;
  const record: QuarantineRecord = {
    connector,
    deliveryId: delivery.deliveryId,
    topic: delivery.topic,
    reason: redactPersonalData(fields.reason),
    receivedAt: request.receivedAt,
    requestId,
    index,
    ...(delivery.unreadable !== undefined ? { unreadable: true as const } : {}),
  };
  const payload = JSON.stringify(delivery.payload) ?? 'null';
  const size = Buffer.byteLength(JSON.stringify(record)) + Buffer.byteLength(JSON.stringify(request));
  return size + Buffer.byteLength(payload) <= MAX_ITEM_BYTES ? { ...record, payload, request } : record;
}

/** The item fields alone, as `omnihub quarantine list --json` and `GET /local/quarantine` print them. */
export function itemOf(record: QuarantineRecord): QuarantineItem {
  const { connector, deliveryId, topic, reason, receivedAt } = record;
  return { connector, deliveryId, topic, reason, receivedAt };
}

/** Oldest first, then by connector and delivery id: a stable order for lists. */
export function byReceipt(a: QuarantineItem, b: QuarantineItem): number {
  return (
    a.receivedAt.localeCompare(b.receivedAt) ||
    a.connector.localeCompare(b.connector) ||
    a.deliveryId.localeCompare(b.deliveryId)
  );
}

/**
 * The quarantine table (`core/tables.ts`): one item per `<connector>#<deliveryId>`, written with a
 * conditional put (ingest may only PutItem), expiring `retentionDays` after receipt.
 *
 * @example
 * const quarantine = new DynamoDbQuarantine({ tableName: process.env.OMNIHUB_QUARANTINE_TABLE });
 */
export class DynamoDbQuarantine implements QuarantineStore, QuarantineReader {
  readonly #table: string;
  readonly #client: AwsJsonClient;
  readonly #retentionDays: number;

  constructor(options: { tableName: string; retentionDays: number; client?: AwsJsonClient }) {
    this.#table = options.tableName;
    this.#retentionDays = options.retentionDays;
    this.#client = options.client ?? new AwsJsonClient(DYNAMODB);
  }

  async keep(records: readonly QuarantineRecord[]): Promise<number> {
    let added = 0;
    await forEachLimited(records, CONCURRENCY, async (record) => {
      const expiresAt = Math.floor(Date.parse(record.receivedAt) / 1000) + this.#retentionDays * 86_400;
      try {
        await this.#client.call('PutItem', {
          TableName: this.#table,
          Item: toAttributes({ pk: keyOf(record.connector, record.deliveryId), ...record, expiresAt }),
          ConditionExpression: 'attribute_not_exists(pk)',
        });
        added += 1;
      } catch (error) {
        if (!(error instanceof AwsServiceError && error.name === 'ConditionalCheckFailedException'))
          throw error;
      }
    });
    return added;
  }

  async list(options: { readonly connector?: string } = {}): Promise<QuarantineRecord[]> {
    const records: QuarantineRecord[] = [];
    let start: AttributeMap | undefined;
    do {
      const page: { Items?: AttributeMap[]; LastEvaluatedKey?: AttributeMap } = await this.#client.call(
        'Scan',
        {
          TableName: this.#table,
          ConsistentRead: true,
          ...(options.connector === undefined
            ? {}
            : {
                FilterExpression: '#connector = :connector',
                ExpressionAttributeNames: { '#connector': 'connector' },
                ExpressionAttributeValues: toAttributes({ ':connector': options.connector }),
              }),
          ...(start ? { ExclusiveStartKey: start } : {}),
        },
      );
      for (const item of page.Items ?? []) {
        const { pk: _key, expiresAt: _expiry, ...record } = fromAttributes(item);
        records.push(record as QuarantineRecord);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return records.sort(byReceipt);
  }

  async remove(connector: string, deliveryId: string): Promise<void> {
    await this.#client.call('DeleteItem', {
      TableName: this.#table,
      Key: toAttributes({ pk: keyOf(connector, deliveryId) }),
    });
  }
}

function keyOf(connector: string, deliveryId: string): string {
  return `${connector}#${deliveryId}`;
}

/** The quarantine in memory, for tests and benchmarks of the pipeline alone. Same contract. */
export class InMemoryQuarantine implements QuarantineStore, QuarantineReader {
  readonly records = new Map<string, QuarantineRecord>();

  async keep(records: readonly QuarantineRecord[]): Promise<number> {
    let added = 0;
    for (const record of records) {
      const key = keyOf(record.connector, record.deliveryId);
      if (this.records.has(key)) continue;
      this.records.set(key, record);
      added += 1;
    }
    return added;
  }

  async list(options: { readonly connector?: string } = {}): Promise<QuarantineRecord[]> {
    return [...this.records.values()]
      .filter((record) => options.connector === undefined || record.connector === options.connector)
      .sort(byReceipt);
  }

  async remove(connector: string, deliveryId: string): Promise<void> {
    this.records.delete(keyOf(connector, deliveryId));
  }
}
