/**
 * The unified profile as data, and the pure rules that fold canonical events into it.
 *
 * Every rule is commutative and idempotent, so the same set of events applied in any order, with
 * duplicates, yields the same profile:
 * - traits, consent and loyalty are last-writer-wins on the vendor's event time (`occurredAt`), ties
 *   broken by the time of a re-translation (`retranslatedAt`, so a fixed translator's correction of an
 *   event wins over the event it corrects), then by event id, so an older event never overwrites a
 *   newer value;
 * - orders and refunds are maps keyed by their vendor ids (set semantics), and stats are derived
 *   from them rather than incremented;
 * - identities, channels and merge lists are sets kept sorted.
 */
import type { Envelope } from '../events/envelope.ts';
import type { Money } from '../money.ts';

/** What decides which of two values is newer. */
type Stamp = { readonly at: string; readonly eventId: string; readonly retranslatedAt?: string };

/** A value with where and when it came from. */
export interface Stamped<T> {
  readonly value: T;
  /** occurredAt of the event that set it (ISO, UTC). */
  readonly at: string;
  /** Connector that reported it. */
  readonly source: string;
  readonly eventId: string;
  /** The event's `retranslatedAt`, when it is a re-translation's correction. */
  readonly retranslatedAt?: string;
}

export type ConsentStatus = 'subscribed' | 'unsubscribed' | 'undeliverable' | 'unknown';

export interface ConsentRecord {
  readonly status: ConsentStatus;
  readonly reason?: string;
}

export interface OrderRecord {
  /** Absent until the order event itself arrives (a refund may come first). */
  readonly total?: Money;
  readonly placedAt?: string;
  /** Which event set the total (last-writer-wins). */
  readonly totalStamp?: Stamp;
  readonly source?: string;
  readonly cancelled?: boolean;
  /** refundId -> amount. */
  readonly refunds?: Readonly<Record<string, Money>>;
}

export interface MergeRecord {
  readonly merged: string;
  readonly eventId: string;
  /** The identity key that showed the two profiles are one person. */
  readonly identity: string;
  readonly at: string;
}

export interface ProfileContent {
  /** Identity keys (`email:…`, `phone:…`, `ext:<system>:<id>`), sorted. */
  readonly identities: readonly string[];
  readonly traits: Readonly<Record<string, Stamped<unknown>>>;
  /** `email`, `sms`, and scoped entries such as `email/group:42`. */
  readonly consent: Readonly<Record<string, Stamped<ConsentRecord>>>;
  /** `<connector>:<orderId>` -> order. */
  readonly orders: Readonly<Record<string, OrderRecord>>;
  /** Connectors that have reported this person, sorted. */
  readonly channels: readonly string[];
  readonly loyalty?: Stamped<{ accountId: string; balance: number; lifetimePoints?: number }>;
  /** Profiles merged into this one, sorted. */
  readonly mergedFrom: readonly string[];
  readonly mergeHistory: readonly MergeRecord[];
}

export interface Stats {
  readonly orderCount: number;
  /** ISO currency -> minor units; refunds subtract. */
  readonly lifetimeValue: Readonly<Record<string, number>>;
  readonly firstOrderAt?: string;
  readonly lastOrderAt?: string;
  readonly channels: readonly string[];
}

export function emptyContent(): ProfileContent {
  return {
    identities: [],
    traits: {},
    consent: {},
    orders: {},
    channels: [],
    mergedFrom: [],
    mergeHistory: [],
  };
}

/**
 * Later event wins; at equal times a later re-translation wins (a correction over what it corrects),
 * then the event id decides, so every order of application agrees.
 */
function newer(candidate: Stamp, current: Stamp | undefined): boolean {
  if (!current) return true;
  if (candidate.at !== current.at) return candidate.at > current.at;
  const candidateTranslation = candidate.retranslatedAt ?? '';
  const currentTranslation = current.retranslatedAt ?? '';
  if (candidateTranslation !== currentTranslation) return candidateTranslation > currentTranslation;
  return candidate.eventId > current.eventId;
}

function sortedUnion(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

function setStamped<T>(
  record: Readonly<Record<string, Stamped<T>>>,
  key: string,
  candidate: Stamped<T>,
): Readonly<Record<string, Stamped<T>>> {
  return newer(candidate, record[key]) ? { ...record, [key]: candidate } : record;
}

function flattenTraits(traits: Record<string, unknown>): Array<[string, unknown]> {
  const rows: Array<[string, unknown]> = [];
  for (const [name, value] of Object.entries(traits)) {
    if (value === undefined || value === null || value === '') continue;
    if (name === 'address' && typeof value === 'object' && !Array.isArray(value)) {
      for (const [part, partValue] of Object.entries(value as Record<string, unknown>)) {
        if (partValue !== undefined && partValue !== null && partValue !== '')
          rows.push([`address.${part}`, partValue]);
      }
    } else rows.push([name, value]);
  }
  return rows;
}

function mergeOrder(a: OrderRecord | undefined, b: OrderRecord): OrderRecord {
  if (!a) return b;
  // The total is last-writer-wins on (time, event id) like any field; placedAt is the earliest time.
  const bNewer = b.total !== undefined && (a.total === undefined || newer(stampOf(b), stampOf(a)));
  const winner = bNewer ? b : a;
  const placedAt = [a.placedAt, b.placedAt].filter((at): at is string => at !== undefined).sort()[0];
  return {
    ...(winner.total ? { total: winner.total, totalStamp: winner.totalStamp, source: winner.source } : {}),
    ...(placedAt ? { placedAt } : {}),
    ...(a.cancelled || b.cancelled ? { cancelled: true } : {}),
    ...(a.refunds || b.refunds ? { refunds: { ...a.refunds, ...b.refunds } } : {}),
  };
}

function stampOf(order: OrderRecord): Stamp {
  return order.totalStamp ?? { at: order.placedAt ?? '', eventId: '' };
}

/** Identity keys an order event is reachable by, so a refund without identities finds its profile. */
export function orderKey(connector: string, orderId: string): string {
  return `${connector}:${orderId}`;
}

/** The orders-map key of the order an `order.*` event names. */
function orderKeyOf(event: Envelope): string {
  return orderKey(event.origin.connector, String((event.data as { orderId?: unknown }).orderId));
}

/** Folds one canonical event into a profile's content. Pure; returns the same object when nothing changed. */
export function foldEvent(
  content: ProfileContent,
  event: Envelope,
  identityKeys: readonly string[],
): ProfileContent {
  const translation = event.retranslatedAt ? { retranslatedAt: event.retranslatedAt } : {};
  const stamp = { at: event.occurredAt, source: event.origin.connector, eventId: event.id, ...translation };
  const data = event.data as Record<string, unknown>;
  let next: ProfileContent = {
    ...content,
    identities: sortedUnion(content.identities, identityKeys),
    channels:
      event.origin.connector === 'omnihub'
        ? content.channels
        : sortedUnion(content.channels, [event.origin.connector]),
  };

  switch (event.type) {
    case 'customer.upserted': {
      let traits = next.traits;
      for (const [name, value] of flattenTraits((data.traits ?? {}) as Record<string, unknown>)) {
        traits = setStamped(traits, name, { value, ...stamp });
      }
      let consent = next.consent;
      for (const [channel, state] of Object.entries(
        (data.consent ?? {}) as Record<string, ConsentRecord | undefined>,
      )) {
        if (state)
          consent = setStamped(consent, channel, {
            value: { status: state.status, ...(state.reason ? { reason: state.reason } : {}) },
            ...stamp,
          });
      }
      next = { ...next, traits, consent };
      break;
    }
    case 'consent.changed': {
      const key = data.scope ? `${String(data.channel)}/${String(data.scope)}` : String(data.channel);
      const value: ConsentRecord = {
        status: data.status as ConsentStatus,
        ...(typeof data.reason === 'string' ? { reason: data.reason } : {}),
      };
      next = { ...next, consent: setStamped(next.consent, key, { value, ...stamp }) };
      break;
    }
    case 'message.bounced': {
      // A hard bounce means mail cannot reach the address; a block is the receiving server's policy.
      if (data.channel === 'email' && data.bounceType !== 'blocked') {
        const value: ConsentRecord = {
          status: 'undeliverable',
          reason: typeof data.reason === 'string' ? data.reason : 'bounce',
        };
        next = { ...next, consent: setStamped(next.consent, 'email', { value, ...stamp }) };
      }
      break;
    }
    case 'order.placed':
    case 'order.paid': {
      const key = orderKeyOf(event);
      const order: OrderRecord = {
        total: data.total as Money,
        totalStamp: { at: event.occurredAt, eventId: event.id, ...translation },
        placedAt: event.occurredAt,
        source: event.origin.connector,
      };
      next = { ...next, orders: { ...next.orders, [key]: mergeOrder(next.orders[key], order) } };
      break;
    }
    case 'order.cancelled': {
      const key = orderKeyOf(event);
      next = {
        ...next,
        orders: { ...next.orders, [key]: mergeOrder(next.orders[key], { cancelled: true }) },
      };
      break;
    }
    case 'order.refunded': {
      const key = orderKeyOf(event);
      const refunds = { [String(data.refundId)]: data.amount as Money };
      next = { ...next, orders: { ...next.orders, [key]: mergeOrder(next.orders[key], { refunds }) } };
      break;
    }
    case 'loyalty.updated': {
      const value = {
        accountId: String(data.accountId),
        balance: Number(data.balance),
        ...(typeof data.lifetimePoints === 'number' ? { lifetimePoints: data.lifetimePoints } : {}),
      };
      if (newer(stamp, next.loyalty)) next = { ...next, loyalty: { value, ...stamp } };
      break;
    }
    default:
      break; // message.* and cart.updated only add the channel and the timeline entry
  }
  return sameContent(content, next) ? content : next;
}

/** Folds a merged profile's content into the survivor's by the same rules as events. */
export function mergeContent(
  survivor: ProfileContent,
  merged: ProfileContent,
  record: MergeRecord,
): ProfileContent {
  let traits = survivor.traits;
  for (const [name, value] of Object.entries(merged.traits)) traits = setStamped(traits, name, value);
  let consent = survivor.consent;
  for (const [name, value] of Object.entries(merged.consent)) consent = setStamped(consent, name, value);
  const orders: Record<string, OrderRecord> = { ...survivor.orders };
  for (const [key, order] of Object.entries(merged.orders)) orders[key] = mergeOrder(orders[key], order);
  const loyalty =
    merged.loyalty && newer(merged.loyalty, survivor.loyalty) ? merged.loyalty : survivor.loyalty;
  return {
    identities: sortedUnion(survivor.identities, merged.identities),
    traits,
    consent,
    orders,
    channels: sortedUnion(survivor.channels, merged.channels),
    ...(loyalty ? { loyalty } : {}),
    mergedFrom: sortedUnion(survivor.mergedFrom, [...merged.mergedFrom, record.merged]),
    mergeHistory: [...survivor.mergeHistory, ...merged.mergeHistory, record]
      .sort((a, b) => (a.merged < b.merged ? -1 : a.merged > b.merged ? 1 : 0))
      .filter((entry, index, all) => index === 0 || all[index - 1]?.merged !== entry.merged),
  };
}

/** Removes an identity a vendor deleted (the person stays). */
export function withoutIdentity(content: ProfileContent, key: string): ProfileContent {
  return content.identities.includes(key)
    ? { ...content, identities: content.identities.filter((k) => k !== key) }
    : content;
}

export function statsOf(content: ProfileContent): Stats {
  let orderCount = 0;
  const lifetimeValue: Record<string, number> = {};
  let firstOrderAt: string | undefined;
  let lastOrderAt: string | undefined;
  for (const order of Object.values(content.orders)) {
    if (order.total && !order.cancelled) {
      orderCount++;
      lifetimeValue[order.total.currency] = (lifetimeValue[order.total.currency] ?? 0) + order.total.amount;
      if (order.placedAt && (!firstOrderAt || order.placedAt < firstOrderAt)) firstOrderAt = order.placedAt;
      if (order.placedAt && (!lastOrderAt || order.placedAt > lastOrderAt)) lastOrderAt = order.placedAt;
    }
    for (const refund of Object.values(order.refunds ?? {})) {
      lifetimeValue[refund.currency] = (lifetimeValue[refund.currency] ?? 0) - refund.amount;
    }
  }
  return {
    orderCount,
    lifetimeValue,
    ...(firstOrderAt ? { firstOrderAt } : {}),
    ...(lastOrderAt ? { lastOrderAt } : {}),
    channels: content.channels,
  };
}

/** Top-level paths whose values differ (`traits.firstName`, `consent.email`, `stats`, `identities`). */
export function changedPaths(before: ProfileContent, after: ProfileContent): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const group of ['traits', 'consent'] as const) {
    const keys = new Set([...Object.keys(before[group]), ...Object.keys(after[group])]);
    for (const key of keys) {
      if (canonicalJson(before[group][key]?.value) !== canonicalJson(after[group][key]?.value)) {
        changes[`${group}.${key}`] = after[group][key]?.value ?? null;
      }
    }
  }
  if (canonicalJson(before.identities) !== canonicalJson(after.identities))
    changes.identities = after.identities;
  const statsBefore = statsOf(before);
  const statsAfter = statsOf(after);
  if (canonicalJson(statsBefore) !== canonicalJson(statsAfter)) changes.stats = statsAfter;
  if (canonicalJson(before.loyalty?.value) !== canonicalJson(after.loyalty?.value))
    changes.loyalty = after.loyalty?.value ?? null;
  return changes;
}

/**
 * The changes an event still stands behind in a profile, at their current values: the traits,
 * consent and loyalty it holds the stamp of, and `stats` when it is an order event whose order the
 * profile holds (refunds and cancellations carry no stamp). The writer announces them again when an
 * event folds to nothing (a redelivery), because the bus may have refused the first announcement
 * after the profile was written. Empty for an event that set nothing, or whose values later events
 * have since replaced (those events announce them).
 */
export function changesStampedBy(content: ProfileContent, event: Envelope): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const group of ['traits', 'consent'] as const) {
    for (const [key, stamped] of Object.entries(content[group])) {
      if (stamped.eventId === event.id) changes[`${group}.${key}`] = stamped.value;
    }
  }
  if (content.loyalty?.eventId === event.id) changes.loyalty = content.loyalty.value;
  if (event.type.startsWith('order.') && content.orders[orderKeyOf(event)] !== undefined) {
    changes.stats = statsOf(content);
  }
  return changes;
}

function sameContent(a: ProfileContent, b: ProfileContent): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * JSON with object keys sorted: maps read back from DynamoDB come in any key order, and two equal
 * profiles must compare equal whatever order their events were applied in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}
