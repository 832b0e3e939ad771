/**
 * The hub's EventBridge custom bus: PutEvents validated like AWS, events built like AWS delivers
 * them, matched against every consumer rule, archived, and delivered to each matching rule's queue.
 *
 * Durability: the archive line and every queue message of an accepted entry are written and fsynced
 * before PutEvents answers, so an ingest handler that got a success (and then answered the vendor
 * 2xx) cannot lose the event to a crash.
 *
 * The account's `default` bus: an entry without `EventBusName` (or naming `default` or its ARN) goes
 * there, as on AWS. The topology puts no rule and no archive on it (nor does the deployed stack), so
 * such an entry is validated and accepted with an `EventId`, then reaches no rule and no archive:
 * exactly what AWS does with it. The hub logs it once, since it usually means a handler did not set
 * `EventBusName` from `OMNIHUB_BUS_NAME`.
 *
 * Differences from AWS, on purpose:
 * - An entry for a bus that is neither the hub's nor `default` fails with `InvalidArgument`. AWS
 *   accepts events for a bus that does not exist and drops them silently; locally it fails loudly.
 * - Delivery to the queue is synchronous and never retried (AWS delivers asynchronously and retries
 *   for 24 hours); a target that refuses the message (too large for SQS) is logged.
 */
import { AwsServiceError } from '../aws-json-protocol.ts';
import { describeError, type HubLogger } from '../log.ts';
import type { SqsQueue } from '../sqs/queue.ts';
import type { EventArchive } from './archive.ts';
import { buildEvent, type EventBridgeEvent } from './event.ts';
import type { EventPatternPredicate } from './pattern.ts';

/** AWS's limit on entries per PutEvents call. */
export const MAX_ENTRIES_PER_PUT_EVENTS = 10;

/**
 * The limit on the total entry size of one PutEvents call, computed as AWS documents it (see
 * {@link putEventsEntrySize}). 256 KiB, AWS's long-standing limit; newer SDK documentation mentions
 * 1 MB, so the local hub errs on the strict side: what passes here passes on AWS.
 */
export const MAX_PUT_EVENTS_SIZE_BYTES = 262_144;

/** A bus rule with its single target: the consumer's queue. */
export interface BusRule {
  /** The rule name: the consumer id. */
  readonly name: string;
  readonly description: string;
  /** The pattern as declared in the topology (returned by ListRules). */
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly matches: EventPatternPredicate;
  readonly target: SqsQueue;
}

export interface LocalEventBusOptions {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly rules: readonly BusRule[];
  readonly archive: EventArchive;
  readonly log: HubLogger;
  /** @default {@link MAX_PUT_EVENTS_SIZE_BYTES} */
  readonly maxRequestSizeBytes?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** One element of PutEvents' `Entries` answer: an `EventId`, or an error code and message. */
export type PutEventsResultEntry =
  | { readonly EventId: string }
  | { readonly ErrorCode: string; readonly ErrorMessage: string };

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: readonly PutEventsResultEntry[];
}

type Entry = Readonly<Record<string, unknown>>;

/** Which of the account's buses an entry is for: the hub's custom bus, or the `default` bus. */
type TargetBus = 'hub' | 'default';

interface ValidEntry {
  readonly bus: TargetBus;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources: readonly string[];
  readonly time: Date | undefined;
}

/**
 * The size AWS counts for a PutEvents entry: 14 bytes when `Time` is given, plus the UTF-8 bytes of
 * `Source`, `DetailType`, `Detail` and each of `Resources`.
 */
export function putEventsEntrySize(entry: Entry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}

class EntryError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

function requiredArgument(name: string): EntryError {
  return new EntryError(
    'InvalidArgument',
    `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
  );
}

function parseTime(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  // The SDK sends timestamps as epoch seconds (with a fraction) in the JSON protocols.
  const instant =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (!instant || Number.isNaN(instant.getTime())) {
    throw new EntryError('InvalidArgument', 'Parameter Time is not valid. Reason: Time must be a timestamp.');
  }
  return instant;
}

/** The local EventBridge bus. */
export class LocalEventBus {
  readonly name: string;
  readonly arn: string;
  /** The ARN of the account's `default` bus, which PutEvents also accepts. */
  readonly defaultBusArn: string;
  private readonly now: () => Date;
  private defaultBusReported = false;

  constructor(private readonly options: LocalEventBusOptions) {
    this.name = options.name;
    this.arn = `arn:aws:events:${options.region}:${options.accountId}:event-bus/${options.name}`;
    this.defaultBusArn = `arn:aws:events:${options.region}:${options.accountId}:event-bus/default`;
    this.now = options.now ?? (() => new Date());
  }

  get rules(): readonly BusRule[] {
    return this.options.rules;
  }

  get archive(): EventArchive {
    return this.options.archive;
  }

  /** The ARN of one of the bus's rules (`arn:aws:events:<region>:<account>:rule/<bus>/<rule>`). */
  ruleArn(ruleName: string): string {
    return `${this.arn.replace(/:event-bus\/.*$/, '')}:rule/${this.name}/${ruleName}`;
  }

  /**
   * Delivers replayed events (already carrying `replay-name`) to the given rules whose pattern
   * matches, as a replay does: nothing is archived. Resolves once the queue messages are fsynced.
   */
  async deliverReplayed(events: readonly EventBridgeEvent[], rules: readonly BusRule[]): Promise<void> {
    const touchedQueues = new Set<SqsQueue>();
    for (const event of events) {
      for (const queue of this.deliver(event, rules)) touchedQueues.add(queue);
    }
    await Promise.all([...touchedQueues].map((queue) => queue.persist()));
  }

  /**
   * PutEvents. Request-level problems (no entries, more than 10, total size over the limit) throw a
   * `ValidationException` like AWS; entry-level problems fail only that entry and are counted in
   * `FailedEntryCount`, with `Entries` in request order.
   */
  async putEvents(input: Readonly<Record<string, unknown>>): Promise<PutEventsResult> {
    const entries = this.validateRequest(input.Entries);
    const receivedAt = this.now();
    const results: PutEventsResultEntry[] = [];
    const touchedQueues = new Set<SqsQueue>();
    let failed = 0;
    for (const entry of entries) {
      let valid: ValidEntry;
      try {
        valid = this.validateEntry(entry);
      } catch (error) {
        if (!(error instanceof EntryError)) throw error;
        failed += 1;
        results.push({ ErrorCode: error.errorCode, ErrorMessage: error.message });
        continue;
      }
      const event = buildEvent({
        ...valid,
        time: valid.time ?? receivedAt,
        account: this.options.accountId,
        region: this.options.region,
      });
      results.push({ EventId: event.id });
      if (valid.bus === 'default') {
        // The default bus has no rules and no archive here: accepted, and delivered nowhere.
        this.reportDefaultBus();
        continue;
      }
      // Serialised once for the archive and every matching rule's queue.
      const eventJson = JSON.stringify(event);
      this.options.archive.append(event, receivedAt, eventJson);
      for (const queue of this.deliver(event, this.options.rules, eventJson)) touchedQueues.add(queue);
    }
    await Promise.all([
      this.options.archive.persist(),
      ...[...touchedQueues].map((queue) => queue.persist()),
    ]);
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Sends an event to the queue of every rule whose pattern matches it; returns the queues written. */
  private deliver(
    event: EventBridgeEvent,
    rules: readonly BusRule[] = this.options.rules,
    eventJson?: string,
  ): SqsQueue[] {
    const written: SqsQueue[] = [];
    let body = eventJson;
    for (const rule of rules) {
      if (!rule.matches(event)) continue;
      try {
        body ??= JSON.stringify(event);
        rule.target.send({ body });
        written.push(rule.target);
      } catch (error) {
        // AWS would count a failed target invocation (FailedInvocations) and keep the event accepted.
        this.options.log.error(
          `rule ${rule.name}: could not deliver event ${event.id} to ${rule.target.name}: ${describeError(error)}`,
        );
      }
    }
    return written;
  }

  private validateRequest(entries: unknown): Entry[] {
    if (entries === undefined || entries === null) {
      throw new AwsServiceError(
        'ValidationException',
        "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
      );
    }
    if (!Array.isArray(entries)) {
      throw new AwsServiceError('ValidationException', "Value at 'entries' must be a list.");
    }
    if (entries.length < 1 || entries.length > MAX_ENTRIES_PER_PUT_EVENTS) {
      const bound =
        entries.length < 1
          ? 'greater than or equal to 1'
          : `less than or equal to ${MAX_ENTRIES_PER_PUT_EVENTS}`;
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
      );
    }
    const typed = entries.map((entry): Entry => (typeof entry === 'object' && entry !== null ? entry : {}));
    const total = typed.reduce((sum, entry) => sum + putEventsEntrySize(entry), 0);
    if (total > (this.options.maxRequestSizeBytes ?? MAX_PUT_EVENTS_SIZE_BYTES)) {
      throw new AwsServiceError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    return typed;
  }

  private validateEntry(entry: Entry): ValidEntry {
    const { Source: source, DetailType: detailType, Detail: detailText } = entry;
    if (typeof source !== 'string' || source.length === 0) throw requiredArgument('Source');
    if (typeof detailType !== 'string' || detailType.length === 0) throw requiredArgument('DetailType');
    if (typeof detailText !== 'string' || detailText.length === 0) throw requiredArgument('Detail');
    if (source.startsWith('aws.')) {
      throw new EntryError('NotAuthorizedForSourceException', 'Not authorized for the source.');
    }
    const bus = this.targetBus(entry.EventBusName);
    let detail: unknown;
    try {
      detail = JSON.parse(detailText);
    } catch {
      throw new EntryError('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      throw new EntryError('MalformedDetail', 'Detail is malformed.');
    }
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || resources.some((resource) => typeof resource !== 'string')) {
      throw new EntryError(
        'InvalidArgument',
        'Parameter Resources is not valid. Reason: Resources must be a list of strings.',
      );
    }
    return {
      bus,
      source,
      detailType,
      detail: detail as Record<string, unknown>,
      resources: resources as string[],
      time: parseTime(entry.Time),
    };
  }

  /** The bus an entry is for; no `EventBusName` means the `default` bus, as on AWS. */
  private targetBus(eventBusName: unknown): TargetBus {
    if (eventBusName === this.name || eventBusName === this.arn) return 'hub';
    if (
      eventBusName === undefined ||
      eventBusName === null ||
      eventBusName === 'default' ||
      eventBusName === this.defaultBusArn
    ) {
      return 'default';
    }
    throw new EntryError(
      'InvalidArgument',
      `Parameter EventBusName is not valid. Reason: the local hub serves only the event bus '${this.name}' (${this.arn}) and the account's default bus, not '${String(eventBusName)}'.`,
    );
  }

  private reportDefaultBus(): void {
    if (this.defaultBusReported) return;
    this.defaultBusReported = true;
    this.options.log.warn(
      `PutEvents accepted an entry for the default bus (no EventBusName, or 'default'): it reaches no rule and is not archived, as on AWS, where the topology's rules are on '${this.name}'`,
    );
  }
}
