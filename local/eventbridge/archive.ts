/**
 * The bus archive: every event accepted by PutEvents, in the order the hub received it, like an
 * EventBridge archive with no pattern. Stored as JSON lines in `<dataDir>/archive/events.jsonl`
 * (`{"receivedAt": ISO, "event": <the EventBridge event>}`), appended before PutEvents answers.
 * Events older than the topology's `archiveRetentionDays` are dropped when the hub starts.
 * Replayed events are never appended (AWS keeps them out of archives too): see `replay.ts`.
 */
import type { HubLogger } from '../log.ts';
import { AppendOnlyFile, readJsonLines, replaceFileDurably } from '../storage/append-only-file.ts';
import type { EventBridgeEvent } from './event.ts';

/** One archived event with the time the hub received it. */
export interface ArchivedEvent {
  /** When the hub accepted the PutEvents entry (ISO 8601 with milliseconds). */
  readonly receivedAt: string;
  readonly event: EventBridgeEvent;
}

export interface ArchiveQuery {
  /** Only events with this `detail-type`. */
  readonly detailType?: string;
  /** Only events the hub received at or after this instant (epoch milliseconds). */
  readonly since?: number;
  /** At most this many: the most recent matches, oldest first. */
  readonly limit: number;
}

export interface ArchiveQueryResult {
  readonly events: readonly ArchivedEvent[];
  /** Whether older matches were left out because of `limit`. */
  readonly truncated: boolean;
}

function isArchivedEvent(value: unknown): value is ArchivedEvent {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { receivedAt?: unknown; event?: unknown };
  return (
    typeof candidate.receivedAt === 'string' &&
    typeof candidate.event === 'object' &&
    candidate.event !== null
  );
}

/** The archive of events put on the bus, kept in memory and, unless in-memory, on disk. */
export class EventArchive {
  /** When this archive was opened (reported as the archive's `CreationTime`). */
  readonly openedAt = new Date();

  private constructor(
    private readonly events: ArchivedEvent[],
    private readonly file: AppendOnlyFile | undefined,
    /** Days events are kept (by the time the hub received them). */
    readonly retentionDays: number,
  ) {}

  /**
   * Loads the archive from `path` (absent: memory only), dropping events past retention.
   *
   * @example
   * const archive = EventArchive.open('.omnihub/archive/events.jsonl', 30, logger);
   */
  static open(
    path: string | undefined,
    retentionDays: number,
    log?: HubLogger,
    now = Date.now(),
  ): EventArchive {
    if (!path) return new EventArchive([], undefined, retentionDays);
    const cutoff = now - retentionDays * 86_400_000;
    const records = readJsonLines(path, (line) => log?.warn(`archive: skipped unreadable line ${line}`));
    const loaded = records.filter(isArchivedEvent);
    const kept = loaded.filter((record) => Date.parse(record.receivedAt) >= cutoff);
    if (kept.length !== records.length) {
      replaceFileDurably(
        path,
        kept.map((record) => JSON.stringify(record)),
      );
    }
    return new EventArchive(kept, AppendOnlyFile.open(path), retentionDays);
  }

  /**
   * Appends an event (written before this returns; {@link persist} makes it power-loss safe).
   * `eventJson` is `JSON.stringify(event)` when the caller has it already.
   */
  append(event: EventBridgeEvent, receivedAt: Date, eventJson = JSON.stringify(event)): void {
    const record: ArchivedEvent = { receivedAt: receivedAt.toISOString(), event };
    this.file?.append(`{"receivedAt":${JSON.stringify(record.receivedAt)},"event":${eventJson}}`);
    this.events.push(record);
  }

  async persist(): Promise<void> {
    await this.file?.sync();
  }

  get size(): number {
    return this.events.length;
  }

  /** Bytes of the archived events as JSON (what DescribeArchive reports as `SizeBytes`). */
  get sizeBytes(): number {
    return this.events.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record.event)), 0);
  }

  /**
   * The events whose `time` (the event's own time, as EventBridge replays select them) is at or after
   * `start` and before `end` (epoch milliseconds), sorted by that time; ties keep arrival order.
   */
  eventsBetween(start: number, end: number): EventBridgeEvent[] {
    return this.events
      .map((record) => ({ event: record.event, at: Date.parse(record.event.time) }))
      .filter((item) => item.at >= start && item.at < end)
      .sort((a, b) => a.at - b.at)
      .map((item) => item.event);
  }

  /** The most recent `limit` events matching the filters, oldest first. */
  query(query: ArchiveQuery): ArchiveQueryResult {
    const matching = this.events.filter(
      (record) =>
        (query.detailType === undefined || record.event['detail-type'] === query.detailType) &&
        (query.since === undefined || Date.parse(record.receivedAt) >= query.since),
    );
    const events = matching.slice(Math.max(0, matching.length - query.limit));
    return { events, truncated: events.length < matching.length };
  }

  async close(): Promise<void> {
    await this.file?.close();
  }
}
