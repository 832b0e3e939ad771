/**
 * Deletes expired items, as DynamoDB's TTL does: in every table with TTL enabled, an item whose TTL
 * attribute is a number of epoch seconds in the past (and not more than five years in the past, which
 * DynamoDB ignores) is deleted. DynamoDB does it within days; the hub sweeps once at start and then
 * every minute (`OMNIHUB_LOCAL_TTL_SWEEP_SECONDS`).
 *
 * Cheap on a big table, so it does not slow the hub under load: a Scan filtered on the TTL attribute
 * and projected to the key (dynalite still reads every item, but sends back only the expired keys), in
 * pages of {@link PAGE_SIZE} items evaluated, resting between pages as long as the page took (about
 * 0.8 s of CPU for 20 000 items, spread over twice that); each expired item is deleted on the
 * condition that it is still expired (a writer may have extended it meanwhile).
 * The sweep runs where dynalite runs (its own thread in the hub), talks to it over its endpoint like
 * any client, never keeps the process alive (its timer is unref'd) and stops with it.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDbSigning } from './local-dynamodb.ts';
import { isTableNotFound, type TimeToLiveSettings } from './time-to-live.ts';

/** How often expired items are deleted when nothing else is said. */
export const DEFAULT_TTL_SWEEP_INTERVAL_MS = 60_000;
/** Items a Scan page evaluates: small enough that requests waiting behind it are not held up. */
const PAGE_SIZE = 100;
/** The longest pause between two pages (each pause lasts as long as the page before it took). */
const MAX_PAUSE_MS = 50;
/** DynamoDB does not expire items whose TTL lies more than five years in the past. */
const MAX_EXPIRED_AGE_SECONDS = 5 * 365 * 86_400;

export interface TimeToLiveSweeperOptions {
  /** The dynalite endpoint. */
  readonly endpoint: string;
  /** What to sign with. @default the region us-east-1 and the credentials local/local */
  readonly signing?: DynamoDbSigning;
  readonly settings: TimeToLiveSettings;
  /** @default {@link DEFAULT_TTL_SWEEP_INTERVAL_MS} */
  readonly intervalMs?: number;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Hears a sweep that failed (it is tried again at the next one). Never given item data. */
  readonly onError?: (message: string) => void;
}

/** The sweep interval in `OMNIHUB_LOCAL_TTL_SWEEP_SECONDS`, or undefined when unset or not a positive number. */
export function ttlSweepIntervalFromEnvironment(): number | undefined {
  const seconds = Number(process.env.OMNIHUB_LOCAL_TTL_SWEEP_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Deletes expired items periodically; see the module comment. */
export class TimeToLiveSweeper {
  private readonly client: DynamoDBClient;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly options: TimeToLiveSweeperOptions) {
    this.now = options.now ?? Date.now;
    this.client = new DynamoDBClient({
      endpoint: options.endpoint,
      region: options.signing?.region ?? 'us-east-1',
      credentials: options.signing?.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  }

  /** Sweeps now, then every interval until {@link stop}. */
  start(): void {
    const interval = this.options.intervalMs ?? DEFAULT_TTL_SWEEP_INTERVAL_MS;
    const tick = () => {
      void this.sweep().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(tick, interval);
        this.timer.unref();
      });
    };
    tick();
  }

  /** One sweep of every table with TTL enabled; resolves with the number of items deleted. */
  sweep(): Promise<number> {
    this.running ??= this.sweepAllTables().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops the timer and waits for a sweep under way to stop at its next item. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    this.client.destroy();
  }

  private async sweepAllTables(): Promise<number> {
    let deleted = 0;
    let start: string | undefined;
    do {
      if (this.stopped) return deleted;
      let page: { TableNames?: string[]; LastEvaluatedTableName?: string };
      try {
        page = await this.client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      } catch (error) {
        this.reportFailure('listing the tables', error);
        return deleted;
      }
      for (const tableName of page.TableNames ?? []) deleted += await this.sweepTable(tableName);
      start = page.LastEvaluatedTableName;
    } while (start !== undefined);
    return deleted;
  }

  private async sweepTable(tableName: string): Promise<number> {
    let deleted = 0;
    try {
      const attributeName = await this.options.settings.attributeOf(tableName);
      if (attributeName === undefined) return 0;
      const keyNames = (await this.options.settings.table(tableName)).KeySchema.map(
        (key) => key.AttributeName,
      );
      const nowSeconds = Math.floor(this.now() / 1000);
      // Still expired: in the past, but not so far in the past that DynamoDB would leave it.
      const expired = {
        ConditionExpression: '#ttl < :now AND #ttl >= :oldest',
        ExpressionAttributeNames: { '#ttl': attributeName },
        ExpressionAttributeValues: {
          ':now': { N: String(nowSeconds) },
          ':oldest': { N: String(nowSeconds - MAX_EXPIRED_AGE_SECONDS) },
        },
      };
      const keyAliases = keyNames.map((_, index) => `#key${index}`);
      let start: Record<string, AttributeValue> | undefined;
      do {
        const pageStarted = performance.now();
        const page = await this.client.send(
          new ScanCommand({
            TableName: tableName,
            Limit: PAGE_SIZE,
            ExclusiveStartKey: start,
            FilterExpression: expired.ConditionExpression,
            ProjectionExpression: keyAliases.join(', '),
            ExpressionAttributeNames: {
              ...expired.ExpressionAttributeNames,
              ...Object.fromEntries(keyAliases.map((alias, index) => [alias, keyNames[index] ?? ''])),
            },
            ExpressionAttributeValues: expired.ExpressionAttributeValues,
          }),
        );
        for (const key of page.Items ?? []) {
          if (this.stopped) return deleted;
          try {
            await this.client.send(new DeleteItemCommand({ TableName: tableName, Key: key, ...expired }));
            deleted += 1;
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        }
        start = page.LastEvaluatedKey;
        // Rest as long as the page took: the sweep never takes more than half of dynalite's time, so
        // requests under load keep their latency while a big table is swept.
        if (start !== undefined) {
          const pause = Math.min(MAX_PAUSE_MS, Math.ceil(performance.now() - pageStarted));
          await sleep(pause, undefined, { ref: false });
        }
      } while (start !== undefined && !this.stopped);
    } catch (error) {
      // A table deleted while it was swept has nothing left to expire.
      if (!(error instanceof ResourceNotFoundException) && !isTableNotFound(error)) {
        this.reportFailure(`table ${tableName}`, error);
      }
    }
    return deleted;
  }

  private reportFailure(what: string, error: unknown): void {
    if (this.stopped) return;
    const name = error instanceof Error ? error.name : 'error';
    this.options.onError?.(`TTL sweep: ${what} failed (${name}); it is tried again at the next sweep`);
  }
}
