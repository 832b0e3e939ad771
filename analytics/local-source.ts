/**
 * Reads what the analytics tables are made of from a running local hub: the profile table by a Scan
 * through the real DynamoDB client at the hub's dynalite endpoint (`GET /health`), and the canonical
 * events from the bus archive (`GET /local/events`).
 *
 * The archive endpoint answers the newest 1000 events of a query at most. When the archive holds
 * more, the events are read per type, and from the archive's file when the hub keeps one on this
 * machine (`<dataDir>/archive/events.jsonl`, one `{"receivedAt","event"}` per line); whatever still
 * cannot be read is reported as a warning, never silently dropped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { eventTypes } from '../core/events/catalog.ts';
import { profileTable } from '../core/tables.ts';
import type { BusEvent, TableItem } from './flatten.ts';

export interface ArchivedBusEvent {
  readonly receivedAt: string;
  readonly event: BusEvent;
}

export interface HubSnapshot {
  readonly items: TableItem[];
  readonly events: ArchivedBusEvent[];
  /** Things the reader could not do completely (e.g. events past the archive endpoint's limit). */
  readonly warnings: string[];
}

/** Progress of a long step: `done` of `total` (total unknown while scanning). */
export type ProgressListener = (step: string, done: number, total?: number) => void;

interface HealthAnswer {
  readonly region?: string;
  readonly dataDir?: string;
  readonly endpoints?: { readonly dynamoDb?: string };
}

interface EventsAnswer {
  readonly events: ArchivedBusEvent[];
  readonly truncated: boolean;
}

const PAGE_LIMIT = 1000;

export class HubUnreachableError extends Error {
  override readonly name = 'HubUnreachableError';
}

async function getJson<T>(fetchImpl: typeof fetch, url: URL): Promise<T> {
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw new HubUnreachableError(
      `cannot reach the local hub at ${url.origin} (${error instanceof Error ? error.message : String(error)}); is it running (npm start), or is --api right?`,
    );
  }
  const body = await response.text();
  if (!response.ok) {
    throw new HubUnreachableError(`${url.pathname} answered ${response.status}: ${body.slice(0, 200)}`);
  }
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new HubUnreachableError(`${url.pathname} did not answer JSON; is ${url.origin} an Omnihub hub?`);
  }
}

export interface ReadHubOptions {
  readonly hubUrl: string;
  readonly progress?: ProgressListener;
  readonly fetch?: typeof fetch;
}

/** Reads every profile-table item and every archived event of a running local hub. */
export async function readLocalHub(options: ReadHubOptions): Promise<HubSnapshot> {
  const fetchImpl = options.fetch ?? fetch;
  const base = new URL(options.hubUrl.endsWith('/') ? options.hubUrl : `${options.hubUrl}/`);
  const health = await getJson<HealthAnswer>(fetchImpl, new URL('health', base));
  const endpoint = health.endpoints?.dynamoDb;
  if (!endpoint) throw new HubUnreachableError(`${base.origin}/health names no DynamoDB endpoint`);
  const warnings: string[] = [];
  const items = await scanProfiles(endpoint, health.region ?? 'us-east-1', options.progress);
  const events = await readEvents(fetchImpl, base, health.dataDir, warnings, options.progress);
  return { items, events, warnings };
}

async function scanProfiles(
  endpoint: string,
  region: string,
  progress?: ProgressListener,
): Promise<TableItem[]> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region,
      // dynalite does not check signatures; the SDK refuses to send unsigned requests.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
  const items: TableItem[] = [];
  let start: Record<string, unknown> | undefined;
  try {
    do {
      const page: ScanCommandOutput = await client.send(
        new ScanCommand({ TableName: profileTable.id, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
      progress?.('profile items', items.length);
    } while (start);
  } finally {
    client.destroy();
  }
  return items;
}

async function readEvents(
  fetchImpl: typeof fetch,
  base: URL,
  dataDir: string | undefined,
  warnings: string[],
  progress?: ProgressListener,
): Promise<ArchivedBusEvent[]> {
  const page = (type?: string) => {
    const url = new URL('local/events', base);
    url.searchParams.set('limit', String(PAGE_LIMIT));
    if (type) url.searchParams.set('type', type);
    return getJson<EventsAnswer>(fetchImpl, url);
  };
  const all = await page();
  progress?.('events', all.events.length, all.events.length);
  if (!all.truncated) return all.events;

  const archiveFile =
    dataDir && dataDir !== ':memory:' ? join(dataDir, 'archive', 'events.jsonl') : undefined;
  if (archiveFile && existsSync(archiveFile)) {
    const events = readArchiveFile(archiveFile);
    progress?.('events', events.length, events.length);
    return events;
  }
  const events: ArchivedBusEvent[] = [];
  for (const [index, type] of eventTypes.entries()) {
    const answer = await page(type);
    events.push(...answer.events);
    if (answer.truncated) {
      warnings.push(
        `the hub archive holds more than ${PAGE_LIMIT} ${type} events and its file is not on this machine: only the newest ${PAGE_LIMIT} are exported`,
      );
    }
    progress?.('events', index + 1, eventTypes.length);
  }
  return events.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
}

/** The archive's JSON lines; a line being written right now (no newline yet) is left for next time. */
export function readArchiveFile(path: string): ArchivedBusEvent[] {
  const content = readFileSync(path, 'utf8');
  const complete = content.slice(0, content.lastIndexOf('\n') + 1);
  const events: ArchivedBusEvent[] = [];
  for (const line of complete.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as Partial<ArchivedBusEvent>;
      if (
        typeof record.receivedAt === 'string' &&
        typeof record.event === 'object' &&
        record.event !== null
      ) {
        events.push(record as ArchivedBusEvent);
      }
    } catch {
      // An unreadable line is skipped by the hub itself when it loads the archive; do the same.
    }
  }
  return events;
}
