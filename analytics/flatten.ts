/**
 * Flattening: canonical events and profile-table items to the rows of the analytics tables
 * (`analytics/schema.ts`). Pure functions, used unchanged by the local export and by the AWS side
 * (the Firehose transform and the profile snapshot), so both produce the same columns.
 */
import { Envelope } from '../core/events/envelope.ts';
import type { ConsentRecord, MergeRecord, OrderRecord, Stamped, Stats } from '../core/profile/model.ts';
import type { Row, TableName } from './schema.ts';

/** The EventBridge event around a canonical envelope (as archived locally and as Firehose receives it). */
export interface BusEvent {
  readonly id?: string;
  readonly 'detail-type'?: string;
  readonly source?: string;
  readonly detail?: unknown;
}

/**
 * An ISO 8601 instant as `YYYY-MM-DD HH:MM:SS.mmm` in UTC: the timestamp text both DuckDB and the
 * Hive JSON SerDe (Athena) read as TIMESTAMP. Undefined for anything that is not a date.
 *
 * @example toTimestamp('2025-04-22T14:30:00-05:00') // '2025-04-22 19:30:00.000'
 */
export function toTimestamp(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace('T', ' ').slice(0, 23);
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function money(value: unknown): { amount: number | null; currency: string | null } {
  if (typeof value !== 'object' || value === null) return { amount: null, currency: null };
  const { amount, currency } = value as { amount?: unknown; currency?: unknown };
  return { amount: integer(amount), currency: text(currency) };
}

export class UnreadableEventError extends Error {
  override readonly name = 'UnreadableEventError';
}

/**
 * One `events` row from a bus event.
 *
 * @param deliveredAt when the bus delivered it (the local archive's receivedAt; Firehose's arrival
 *   time in AWS, the same instant its S3 prefix is dated by): gives `dt`.
 * @throws UnreadableEventError when the detail is not a canonical envelope.
 */
export function flattenEvent(event: BusEvent, deliveredAt: string | number): Row {
  const parsed = Envelope.safeParse(event.detail);
  if (!parsed.success) {
    throw new UnreadableEventError(
      `event ${event.id ?? '(no id)'} (${event['detail-type'] ?? 'no type'}) is not a canonical envelope: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  const envelope = parsed.data;
  const data = envelope.data;
  const isOrder = envelope.type.startsWith('order.');
  const total = money(data.total ?? data.amount);
  const lineItems = Array.isArray(data.lineItems) ? data.lineItems.length : null;
  const delivered = toTimestamp(deliveredAt);
  return {
    event_id: envelope.id,
    type: envelope.type,
    connector: envelope.origin.connector,
    topic: envelope.origin.topic ?? null,
    delivery_id: envelope.origin.deliveryId,
    subject: envelope.subject ?? null,
    schema_version: envelope.schemaVersion,
    occurred_at: toTimestamp(envelope.occurredAt),
    received_at: toTimestamp(envelope.receivedAt),
    correlation_id: envelope.correlationId,
    identity_count: envelope.identities.length,
    profile_id: text(data.profileId ?? data.survivor),
    merged_profile_id: text(data.merged),
    order_id: isOrder ? text(data.orderId) : null,
    order_number: isOrder ? text(data.orderNumber) : null,
    channel: text(data.channel),
    amount: total.amount,
    currency: total.currency,
    financial_status: text(data.financialStatus),
    line_item_count: lineItems,
    refund_id: text(data.refundId),
    cart_id: text(data.cartId),
    cart_completed: typeof data.completed === 'boolean' ? data.completed : null,
    message_id: text(data.messageId),
    vendor_status: text(data.vendorStatus),
    status: text(data.status),
    scope: text(data.scope),
    reason: typeof data.reason === 'string' ? data.reason : null,
    system: text(data.system),
    external_id: text(data.externalId),
    loyalty_balance: integer(data.balance),
    dt: delivered ? delivered.slice(0, 10) : null,
  };
}

/** A profile-table item as DynamoDB returns it (unmarshalled). */
export type TableItem = Readonly<Record<string, unknown>>;

interface ProfileItemShape {
  readonly profileId: string;
  readonly status: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly identities?: readonly string[];
  readonly traits?: Readonly<Record<string, Stamped<unknown>>>;
  readonly consent?: Readonly<Record<string, Stamped<ConsentRecord>>>;
  readonly orders?: Readonly<Record<string, OrderRecord>>;
  readonly channels?: readonly string[];
  readonly loyalty?: Stamped<{ balance?: number }>;
  readonly mergedFrom?: readonly string[];
  readonly mergeHistory?: readonly MergeRecord[];
  readonly stats?: Partial<Stats>;
}

interface Touch {
  readonly at: string;
  readonly connector: string;
  readonly tiebreak: string;
}

function earlier(a: Touch | undefined, b: Touch): Touch {
  if (!a) return b;
  if (b.at !== a.at) return b.at < a.at ? b : a;
  return b.tiebreak < a.tiebreak ? b : a;
}

/** Instants compare as text only once normalised (vendors send offsets). */
function iso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

/** `ext:shopify:123` -> `ext:shopify`; `email:a@b.c` -> `email`; `order:square:X` -> `order:square`. */
export function identityKind(key: string): string {
  if (key === '') return 'unknown';
  const [kind = '', system] = key.split(':', 2);
  return ['ext', 'order', 'payment'].includes(kind) && system ? `${kind}:${system}` : kind;
}

function identityRow(profileId: string, key: string): Row {
  const colon = key.indexOf(':');
  const kind = colon < 0 ? key : key.slice(0, colon);
  const rest = colon < 0 ? '' : key.slice(colon + 1);
  if (kind === 'ext') {
    const split = rest.indexOf(':');
    return {
      profile_id: profileId,
      identity_key: key,
      identity_type: 'external',
      system: split < 0 ? null : rest.slice(0, split),
      value: split < 0 ? rest : rest.slice(split + 1),
    };
  }
  return { profile_id: profileId, identity_key: key, identity_type: kind, system: null, value: rest };
}

export type TableRows = Record<TableName, Row[]>;

export function emptyRows(): TableRows {
  return { events: [], profiles: [], identities: [], consent: [], merges: [], profile_orders: [] };
}

/**
 * The profile-derived tables from the items of the profile table (any order; a full Scan).
 * Only live profiles become rows: merged profiles are redirects, identity pointers are an index.
 * `first_seen_at`/`first_channel` come from the earliest timeline entry of the person (theirs and
 * their merged profiles'), or of the values they carry when the timeline has expired.
 */
export function flattenProfileItems(items: Iterable<TableItem>): Omit<TableRows, 'events'> {
  const profiles: ProfileItemShape[] = [];
  const firstTouch = new Map<string, Touch>();
  for (const item of items) {
    const pk = String(item.pk ?? '');
    const sk = String(item.sk ?? '');
    if (!pk.startsWith('P#')) continue;
    const partition = pk.slice(2);
    if (sk === 'P') profiles.push(item as unknown as ProfileItemShape);
    else if (
      sk.startsWith('T#') &&
      typeof item.occurredAt === 'string' &&
      typeof item.connector === 'string'
    ) {
      const touch = {
        at: iso(item.occurredAt),
        connector: item.connector,
        tiebreak: String(item.eventId ?? ''),
      };
      firstTouch.set(partition, earlier(firstTouch.get(partition), touch));
    }
  }

  const rows: Omit<TableRows, 'events'> = {
    profiles: [],
    identities: [],
    consent: [],
    merges: [],
    profile_orders: [],
  };
  for (const profile of profiles.filter((p) => p.status === 'live')) {
    const id = profile.profileId;
    let first: Touch | undefined;
    for (const partition of [id, ...(profile.mergedFrom ?? [])]) {
      const touch = firstTouch.get(partition);
      if (touch) first = earlier(first, touch);
    }
    if (!first) {
      const stamps: Stamped<unknown>[] = [
        ...Object.values(profile.traits ?? {}),
        ...Object.values(profile.consent ?? {}),
        ...(profile.loyalty ? [profile.loyalty] : []),
      ];
      for (const stamp of stamps) {
        first = earlier(first, { at: iso(stamp.at), connector: stamp.source, tiebreak: stamp.eventId });
      }
      for (const order of Object.values(profile.orders ?? {})) {
        if (order.placedAt && order.source)
          first = earlier(first, { at: iso(order.placedAt), connector: order.source, tiebreak: '' });
      }
    }
    const channels = [...(profile.channels ?? [])].sort();
    const identities = profile.identities ?? [];
    const consentOf = (channel: string) => profile.consent?.[channel]?.value.status ?? 'unknown';
    rows.profiles.push({
      profile_id: id,
      created_at: toTimestamp(profile.createdAt),
      updated_at: toTimestamp(profile.updatedAt),
      first_seen_at: first ? toTimestamp(first.at) : null,
      first_channel: first?.connector ?? null,
      channels: channels.join(','),
      channel_count: channels.length,
      identity_count: identities.length,
      order_count: integer(profile.stats?.orderCount) ?? 0,
      first_order_at: toTimestamp(profile.stats?.firstOrderAt),
      last_order_at: toTimestamp(profile.stats?.lastOrderAt),
      email_consent: consentOf('email'),
      sms_consent: consentOf('sms'),
      loyalty_balance: integer(profile.loyalty?.value.balance),
      country: text(profile.traits?.['address.country']?.value),
      merged_count: profile.mergedFrom?.length ?? 0,
    });

    for (const key of identities) rows.identities.push(identityRow(id, key));

    const consent = { email: undefined, sms: undefined, ...profile.consent } as Record<
      string,
      Stamped<ConsentRecord> | undefined
    >;
    for (const [key, stamped] of Object.entries(consent).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const slash = key.indexOf('/');
      rows.consent.push({
        profile_id: id,
        channel: slash < 0 ? key : key.slice(0, slash),
        scope: slash < 0 ? null : key.slice(slash + 1),
        status: stamped?.value.status ?? 'unknown',
        reason: stamped?.value.reason ?? null,
        source: stamped?.source ?? null,
        updated_at: toTimestamp(stamped?.at),
      });
    }

    for (const record of profile.mergeHistory ?? []) {
      rows.merges.push({
        profile_id: id,
        merged_profile_id: record.merged,
        reason: identityKind(record.identity),
        identity_key: record.identity || null,
        event_id: record.eventId,
        merged_at: toTimestamp(record.at),
      });
    }

    for (const [key, order] of Object.entries(profile.orders ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const colon = key.indexOf(':');
      const refunds = Object.values(order.refunds ?? {});
      const currency = order.total?.currency ?? refunds[0]?.currency ?? null;
      rows.profile_orders.push({
        profile_id: id,
        order_key: key,
        connector: colon < 0 ? null : key.slice(0, colon),
        order_id: colon < 0 ? key : key.slice(colon + 1),
        placed_at: toTimestamp(order.placedAt),
        amount: order.total ? integer(order.total.amount) : null,
        currency,
        refunded_amount: refunds
          .filter((refund) => refund.currency === currency)
          .reduce((sum, refund) => sum + (integer(refund.amount) ?? 0), 0),
        cancelled: order.cancelled === true,
      });
    }
  }
  return rows;
}

/** One row as a JSON line (the format of the AWS tables and of the export's intermediate files). */
export function toJsonLine(row: Row): string {
  return `${JSON.stringify(row)}\n`;
}
