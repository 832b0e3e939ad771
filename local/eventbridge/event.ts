/**
 * The event EventBridge delivers to targets (and what rules match against), built from a PutEvents
 * entry exactly as AWS builds it.
 */
import { randomUUID } from 'node:crypto';

/** An event as delivered by EventBridge; `detail` is the parsed `Detail` JSON object. */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** ISO 8601 in UTC to the second, without milliseconds: `2024-05-01T12:00:00Z`. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
  /** Set only on events delivered by a replay: the replay's name (AWS adds it the same way). */
  readonly 'replay-name'?: string;
}

/** EventBridge's `time` format: the milliseconds are dropped (truncated), not rounded. */
export function eventTime(instant: Date): string {
  return `${instant.toISOString().slice(0, 19)}Z`;
}

export interface EventFields {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources: readonly string[];
  /** The entry's `Time`, or when the bus received it. */
  readonly time: Date;
  readonly account: string;
  readonly region: string;
}

/** Builds the delivered event; the `id` is a fresh UUID and is also the `EventId` PutEvents returns. */
export function buildEvent(fields: EventFields): EventBridgeEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': fields.detailType,
    source: fields.source,
    account: fields.account,
    time: eventTime(fields.time),
    region: fields.region,
    resources: [...fields.resources],
    detail: fields.detail,
  };
}
