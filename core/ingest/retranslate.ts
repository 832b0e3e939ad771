/**
 * Re-translation: today's translators over archived deliveries (`omnihub retranslate`), through the
 * same stage ingest runs (`translate.ts`), publishing what changed.
 *
 * Whether a delivery changed is known without publishing: the ledger kept a digest of the events the
 * delivery published (their ids, which cover their content, `core/events/event-id.ts`), and the
 * re-translation's events are compared with it. An unchanged delivery publishes nothing; a changed one
 * publishes its events, each with `retranslatedAt` (so a correction wins over the value it corrects
 * at the same vendor time, `core/profile/model.ts`), and the ledger records its new digest, so a
 * second run finds everything unchanged. A delivery that fails again is counted and kept in (or
 * added to) the quarantine; a quarantined one that now translates is published and leaves it.
 *
 * What a fixed translator cannot undo: an event a wrong translation published (to the wrong person,
 * say) is not taken back; re-translation corrects values and adds what was missing.
 */
import type { EventPublisher } from '../aws/publisher.ts';
import type { ConnectorDefinition } from '../connector.ts';
import { ValidationError } from '../errors.ts';
import type { Envelope } from '../events/envelope.ts';
import { publishedDigest } from '../events/event-id.ts';
import { requestOf } from './kept-request.ts';
import type { DeliveryLedger } from './ledger.ts';
import type { QuarantineReader, QuarantineRecord, QuarantineStore } from './quarantine.ts';
import type { RawDelivery } from './raw-archive.ts';
import { type DeliveryOutcome, translateDelivery, translateRequest } from './translate.ts';

/** What `omnihub retranslate` prints at the end: `read N, published N, unchanged N, still failing N`. */
export interface RetranslateSummary {
  /** Deliveries (batch elements each) read, or quarantine items with `--quarantined`. */
  read: number;
  /** Deliveries whose events changed (or were missing) and were published (or would be, dry run). */
  published: number;
  /** Deliveries that would publish exactly what they published before, or nothing. */
  unchanged: number;
  /** Deliveries (or whole requests) that still fail their parser, schema or translator. */
  stillFailing: number;
}

export interface RetranslateTarget {
  readonly connectors: Readonly<Record<string, ConnectorDefinition>>;
  readonly publisher: EventPublisher;
  /** The delivery ledger of a connector (each connector's keys have their own prefix). */
  ledgerOf(connectorId: string): DeliveryLedger;
  readonly quarantine: QuarantineStore & QuarantineReader;
  /** Count only: publish, record and remove nothing. */
  readonly dryRun: boolean;
  /** Carried on every event published. */
  readonly correlationId: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Told after each delivery (or item). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Deliveries handled per round of ledger reads and PutEvents calls. */
const CHUNK = 100;

/** What one delivery comes to. */
type Verdict =
  | {
      readonly kind: 'publish';
      readonly connector: string;
      readonly key: string;
      readonly envelopes: readonly Envelope[];
      /** The quarantine item it clears, when it was one. */
      readonly clears?: QuarantineRecord;
    }
  | { readonly kind: 'unchanged'; readonly clears?: QuarantineRecord }
  | { readonly kind: 'failing'; readonly record?: QuarantineRecord };

/** An outcome of today's translation, waiting for the ledger's word on whether it changed. */
interface Pending {
  readonly connector: string;
  readonly outcome: DeliveryOutcome | undefined;
  readonly clears?: QuarantineRecord;
}

/**
 * Re-translates archived deliveries (oldest first) and publishes what changed.
 *
 * @example
 * const summary = await retranslateDeliveries(readRawDeliveries(lines, { from, to }), target);
 */
export async function retranslateDeliveries(
  deliveries: readonly RawDelivery[],
  target: RetranslateTarget,
): Promise<RetranslateSummary> {
  const summary: RetranslateSummary = { read: 0, published: 0, unchanged: 0, stillFailing: 0 };
  const quarantined = new Map(
    (await target.quarantine.list()).map((record) => [`${record.connector}#${record.deliveryId}`, record]),
  );
  for (let start = 0; start < deliveries.length; start += CHUNK) {
    const pending: Pending[] = [];
    for (const raw of deliveries.slice(start, start + CHUNK)) {
      const outcomes = outcomesOf(raw, target);
      if (outcomes === undefined) pending.push({ connector: raw.connector, outcome: undefined });
      for (const outcome of outcomes ?? []) {
        const clears = quarantined.get(`${raw.connector}#${outcome.delivery.deliveryId}`);
        pending.push({ connector: raw.connector, outcome, ...(clears ? { clears } : {}) });
      }
    }
    await settle(pending, target, summary);
    target.onProgress?.(Math.min(start + CHUNK, deliveries.length), deliveries.length);
  }
  return summary;
}

/**
 * Retries quarantine items: each by a re-translation of its archived request (which a fixed parser
 * may now read), else, when the request is no longer archived, of the item's own copy of the element.
 * Items that now translate are published and removed.
 */
export async function retranslateQuarantine(
  items: readonly QuarantineRecord[],
  deliveries: readonly RawDelivery[],
  target: RetranslateTarget,
): Promise<RetranslateSummary> {
  const summary: RetranslateSummary = { read: 0, published: 0, unchanged: 0, stillFailing: 0 };
  const byRequest = new Map(deliveries.map((raw) => [`${raw.connector}#${raw.requestId}`, raw]));
  const translated = new Map<string, DeliveryOutcome[] | undefined>();
  for (let start = 0; start < items.length; start += CHUNK) {
    const pending: Pending[] = [];
    for (const item of items.slice(start, start + CHUNK)) {
      const requestKey = `${item.connector}#${item.requestId}`;
      const raw = byRequest.get(requestKey);
      let outcome: DeliveryOutcome | undefined;
      if (raw) {
        if (!translated.has(requestKey)) translated.set(requestKey, outcomesOf(raw, target));
        const outcomes = translated.get(requestKey) ?? [];
        outcome =
          outcomes.find((candidate) => candidate.delivery.deliveryId === item.deliveryId) ??
          outcomes[item.index];
      } else {
        outcome = fromItem(item, target);
      }
      pending.push({ connector: item.connector, outcome, clears: item });
    }
    await settle(pending, target, summary);
    target.onProgress?.(Math.min(start + CHUNK, items.length), items.length);
  }
  return summary;
}

/** Today's outcomes of an archived request; undefined when the whole request is refused (400). */
function outcomesOf(raw: RawDelivery, target: RetranslateTarget): DeliveryOutcome[] | undefined {
  const connector = Object.hasOwn(target.connectors, raw.connector)
    ? target.connectors[raw.connector]
    : undefined;
  if (!connector) return undefined;
  try {
    return translateRequest(connector, raw.request, {
      correlationId: target.correlationId,
      requestId: raw.requestId,
    });
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

/** An item whose request is no longer archived, translated from its own copy of the element. */
function fromItem(item: QuarantineRecord, target: RetranslateTarget): DeliveryOutcome | undefined {
  const connector = Object.hasOwn(target.connectors, item.connector)
    ? target.connectors[item.connector]
    : undefined;
  if (!connector || item.unreadable || item.payload === undefined || item.request === undefined)
    return undefined;
  const delivery = {
    deliveryId: item.deliveryId,
    topic: item.topic,
    payload: JSON.parse(item.payload) as unknown,
  };
  return translateDelivery(
    connector,
    delivery,
    item.index,
    requestOf(item.request, Buffer.from(item.payload)),
    {
      correlationId: target.correlationId,
      requestId: item.requestId,
    },
  );
}

/** Decides each pending delivery against the ledger, then publishes, records and clears. */
async function settle(pending: readonly Pending[], target: RetranslateTarget, summary: RetranslateSummary) {
  const now = (target.now ?? (() => new Date()))().toISOString();
  const candidates = new Map<string, string[]>();
  for (const { connector, outcome } of pending) {
    if (outcome?.kind === 'translated' && outcome.envelopes.length > 0) {
      candidates.set(connector, [...(candidates.get(connector) ?? []), outcome.key]);
    }
  }
  const recorded = new Map<string, string | undefined>();
  for (const [connector, keys] of candidates) {
    for (const [key, digest] of await target.ledgerOf(connector).published(keys)) recorded.set(key, digest);
  }

  const verdicts: Verdict[] = pending.map(({ connector, outcome, clears }): Verdict => {
    if (outcome === undefined) return { kind: 'failing' };
    if (outcome.kind === 'quarantined') return { kind: 'failing', record: outcome.record };
    if (outcome.kind !== 'translated' || outcome.envelopes.length === 0) {
      return { kind: 'unchanged', ...(clears ? { clears } : {}) };
    }
    const digest = publishedDigest(outcome.envelopes.map((envelope) => envelope.id));
    if (recorded.get(outcome.key) === digest) return { kind: 'unchanged', ...(clears ? { clears } : {}) };
    return {
      kind: 'publish',
      connector,
      key: outcome.key,
      envelopes: outcome.envelopes.map((envelope) => ({ ...envelope, retranslatedAt: now })),
      ...(clears ? { clears } : {}),
    };
  });

  const publishing = verdicts.filter((verdict) => verdict.kind === 'publish');
  let refused: ReadonlySet<number> = new Set();
  if (!target.dryRun && publishing.length > 0) {
    refused = (await target.publisher.publish(publishing.flatMap((verdict) => verdict.envelopes))).failed;
  }
  const done = new Map<string, { keys: string[]; digests: Map<string, string> }>();
  const clear: QuarantineRecord[] = [];
  let offset = 0;
  for (const verdict of publishing) {
    const indexes = verdict.envelopes.map((_, index) => offset + index);
    offset += verdict.envelopes.length;
    if (indexes.some((index) => refused.has(index))) {
      summary.stillFailing += 1;
      continue;
    }
    summary.published += 1;
    const entry = done.get(verdict.connector) ?? { keys: [], digests: new Map<string, string>() };
    entry.keys.push(verdict.key);
    entry.digests.set(verdict.key, publishedDigest(verdict.envelopes.map((envelope) => envelope.id)));
    done.set(verdict.connector, entry);
    if (verdict.clears) clear.push(verdict.clears);
  }
  const failing: QuarantineRecord[] = [];
  for (const verdict of verdicts) {
    summary.read += 1;
    if (verdict.kind === 'unchanged') {
      summary.unchanged += 1;
      if (verdict.clears) clear.push(verdict.clears);
    } else if (verdict.kind === 'failing') {
      summary.stillFailing += 1;
      if (verdict.record) failing.push(verdict.record);
    }
  }
  if (target.dryRun) return;
  for (const [connector, { keys, digests }] of done) await target.ledgerOf(connector).complete(keys, digests);
  for (const record of clear) await target.quarantine.remove(record.connector, record.deliveryId);
  if (failing.length > 0) await target.quarantine.keep(failing);
  if (refused.size > 0) {
    throw new Error(`the bus refused ${refused.size} event(s); run again to publish them`);
  }
}
