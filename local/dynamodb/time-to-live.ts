/**
 * DynamoDB Time to Live settings, which dynalite 4 lacks: it answers DescribeTimeToLive with DISABLED
 * for every table and does not know UpdateTimeToLive. The hub answers both in front of dynalite, on the
 * same endpoint, and keeps each table's setting in dynalite's own LevelDB store (under keys of its own,
 * beside dynalite's), so a setting lives exactly as long as the table's data.
 *
 * As on DynamoDB: UpdateTimeToLive answers the specification it was given; enabling TTL that is already
 * enabled, or disabling it when it is not, is a `ValidationException`; a table that does not exist is a
 * `ResourceNotFoundException`; a table deleted and created again starts with TTL disabled. Locally a
 * change takes effect at once (DynamoDB passes through ENABLING/DISABLING for up to an hour and refuses
 * a second change meanwhile). Expired items are deleted by the sweep (`ttl-sweeper.ts`).
 */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';

type Callback<T> = (error: unknown, value?: T) => void;

/** The parts of a dynalite table description the settings need. */
export interface DynaliteTable {
  readonly TableStatus: string;
  readonly CreationDateTime: number;
  readonly KeySchema: readonly { readonly AttributeName: string; readonly KeyType: string }[];
}

/** The parts of dynalite's store (`dynalite/db` `create()`) the settings use. */
export interface DynaliteStore {
  readonly db: {
    get(key: string, callback: Callback<unknown>): void;
    put(key: string, value: unknown, callback: (error?: unknown) => void): void;
  };
  getTable(name: string, checkStatus: boolean, callback: Callback<DynaliteTable>): void;
}

/** A stored setting: the attribute, for the table created at `tableCreated` (a later table of the same name has none). */
interface StoredSetting {
  readonly attributeName: string;
  readonly tableCreated: number;
}

const SETTING_KEY_PREFIX = 'omnihub-ttl~';
const DESCRIBE_TARGET = 'DynamoDB_20120810.DescribeTimeToLive';
const UPDATE_TARGET = 'DynamoDB_20120810.UpdateTimeToLive';

/** An error answered as DynamoDB answers it: HTTP status and `{ __type, message }`. */
class DynamoDbError extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether an error from {@link TimeToLiveSettings} says the table does not exist. */
export function isTableNotFound(error: unknown): boolean {
  return error instanceof DynamoDbError && error.type.endsWith('#ResourceNotFoundException');
}

function validationError(message: string): DynamoDbError {
  return new DynamoDbError(400, 'com.amazon.coral.validate#ValidationException', message);
}

/** Each table's TTL setting, read from and written to dynalite's store. */
export class TimeToLiveSettings {
  constructor(private readonly store: DynaliteStore) {}

  /** The table's description; rejects with dynalite's own ResourceNotFoundException when it does not exist. */
  table(name: string): Promise<DynaliteTable> {
    return new Promise((resolve, reject) => {
      this.store.getTable(name, false, (error, table) => {
        if (error || !table) {
          const failure = error as { statusCode?: number; body?: { __type?: string; message?: string } };
          reject(
            failure?.body?.__type
              ? new DynamoDbError(failure.statusCode ?? 400, failure.body.__type, failure.body.message ?? '')
              : error,
          );
        } else {
          resolve(table);
        }
      });
    });
  }

  /** The attribute TTL is enabled on for this table, or undefined when TTL is disabled. */
  async attributeOf(tableName: string): Promise<string | undefined> {
    const table = await this.table(tableName);
    const stored = await new Promise<unknown>((resolve, reject) => {
      this.store.db.get(SETTING_KEY_PREFIX + tableName, (error, value) =>
        error ? reject(error) : resolve(value),
      );
    });
    const setting = stored as Partial<StoredSetting> | undefined;
    if (typeof setting?.attributeName !== 'string') return undefined;
    return setting.tableCreated === table.CreationDateTime ? setting.attributeName : undefined;
  }

  /** UpdateTimeToLive: enables or disables TTL on `attributeName`, with DynamoDB's refusals. */
  async update(tableName: string, attributeName: string, enabled: boolean): Promise<void> {
    const table = await this.table(tableName);
    const current = await this.attributeOf(tableName);
    if (enabled && current === attributeName) throw validationError('TimeToLive is already enabled');
    if (!enabled && current === undefined) throw validationError('TimeToLive is already disabled');
    if (current !== undefined && current !== attributeName) {
      throw validationError(
        `TimeToLive is active on a different AttributeName: current AttributeName is ${current}`,
      );
    }
    const value: StoredSetting | Record<string, never> = enabled
      ? { attributeName, tableCreated: table.CreationDateTime }
      : {};
    await new Promise<void>((resolve, reject) => {
      this.store.db.put(SETTING_KEY_PREFIX + tableName, value, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }
}

function tableNameOf(input: Record<string, unknown>): string {
  const name = input.TableName;
  if (typeof name !== 'string') {
    throw validationError(
      "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
    );
  }
  return name;
}

async function answer(
  settings: TimeToLiveSettings,
  target: string,
  input: Record<string, unknown>,
): Promise<unknown> {
  const tableName = tableNameOf(input);
  if (target === DESCRIBE_TARGET) {
    const attributeName = await settings.attributeOf(tableName);
    return {
      TimeToLiveDescription:
        attributeName === undefined
          ? { TimeToLiveStatus: 'DISABLED' }
          : { TimeToLiveStatus: 'ENABLED', AttributeName: attributeName },
    };
  }
  const specification = input.TimeToLiveSpecification as
    | { AttributeName?: unknown; Enabled?: unknown }
    | undefined;
  const attributeName = specification?.AttributeName;
  const enabled = specification?.Enabled;
  if (typeof attributeName !== 'string' || attributeName.length < 1 || attributeName.length > 255) {
    throw validationError(
      "1 validation error detected: Value at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length between 1 and 255",
    );
  }
  if (typeof enabled !== 'boolean') {
    throw validationError(
      "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
    );
  }
  await settings.update(tableName, attributeName, enabled);
  return { TimeToLiveSpecification: { AttributeName: attributeName, Enabled: enabled } };
}

function send(response: ServerResponse, contentType: string, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amz-crc32': String(crc32(text)),
    // dynalite's request ids: 52 upper-case base64-ish characters.
    'x-amzn-requestid': randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0'),
  });
  response.end(text);
}

async function handle(
  settings: TimeToLiveSettings,
  target: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requested = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  const contentType = requested === 'application/x-amz-json-1.0' ? requested : 'application/json';
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let input: unknown;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new DynamoDbError(400, 'com.amazon.coral.service#SerializationException', '');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new DynamoDbError(400, 'com.amazon.coral.service#SerializationException', '');
    }
    send(response, contentType, 200, await answer(settings, target, input as Record<string, unknown>));
  } catch (error) {
    if (error instanceof DynamoDbError) {
      send(response, contentType, error.statusCode, { __type: error.type, message: error.message });
    } else {
      send(response, contentType, 500, {
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message: 'The local hub failed to read or write the Time to Live setting.',
      });
    }
  }
}

/**
 * Puts DescribeTimeToLive and UpdateTimeToLive in front of a dynalite server; every other request
 * reaches dynalite untouched.
 *
 * @example
 * serveTimeToLive(dynalite({ path }), new TimeToLiveSettings(store));
 */
export function serveTimeToLive(server: Server, settings: TimeToLiveSettings): void {
  const dynaliteListeners = server.listeners('request') as ((...args: unknown[]) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const target = request.headers['x-amz-target'];
    if (request.method === 'POST' && (target === DESCRIBE_TARGET || target === UPDATE_TARGET)) {
      void handle(settings, target, request, response);
      return;
    }
    for (const listener of dynaliteListeners) listener.call(server, request, response);
  });
}
