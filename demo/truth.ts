/**
 * The known truth of a journey: for each person, the profile the hub must end with, and totals an
 * analyst can check SQL answers against. Derived from the journey's expected events (the same values
 * the webhooks were built from), never typed a second time.
 *
 * The rules are the documented ones of the profile (see docs/data-model.md): identities are a set;
 * traits and consent are last-writer-wins on the vendor's event time (events without one, Twilio's,
 * are stamped on receipt and so are the newest); orders are keyed by vendor order id and refunds
 * subtract per currency; merges happen when one event names identities of two existing profiles.
 *
 * @example
 * const truth = truthOf(buildJourney(new Date('2025-06-10T12:00:00Z')));
 * truth.totals.checkouts; // { started: 2, completed: 1, abandoned: 1 }
 */
import { type Identity, identitiesFromKeys, identityKey } from '../core/identity/identity.ts';
import type { Money } from '../core/money.ts';
import type { ConsentStatus, Stats } from '../core/profile/model.ts';
import type { ExpectedEvent, Journey } from './journey.ts';
import { type PersonId, people } from './people.ts';
import type { VendorId } from './vendors/step.ts';

export interface ConsentTruth {
  readonly status: ConsentStatus;
  readonly source?: VendorId;
  readonly reason?: string;
}

export interface MergeTruth {
  /**
   * Identity keys of the linking event that were already known, on the surviving and on the merged
   * profile: together they showed the two are one person. The writer records one of them.
   */
  readonly linkedBy: readonly string[];
  /** The step whose event linked them. */
  readonly story: string;
  /**
   * Identity keys of the linking event that led to the merged (younger) profile: the writer records
   * one of them as the merge's identity (`merges.identity_key` in analytics).
   */
  readonly mergedBy: readonly string[];
  /** Kinds of `mergedBy` (`email`, `phone`, `ext:<system>`, `order:<connector>`), sorted, distinct. */
  readonly reasons: readonly string[];
  /** Connector of the linking event. */
  readonly connector: VendorId;
}

/** One checkout (cart) of the journey, as its `cart.updated` events report it. */
export interface CheckoutTruth {
  readonly person: PersonId;
  readonly connector: VendorId;
  readonly cartId: string;
  /** The total of its last report. */
  readonly total: Money;
  /** Any report said it became an order. */
  readonly completed: boolean;
}

export interface PersonTruth {
  readonly person: PersonId;
  readonly name: string;
  /** The identity to look the person up by (their first email). */
  readonly lookup: Identity;
  /** Every identity, sorted by key: all must lead to one and the same profile. */
  readonly identities: readonly Identity[];
  readonly traits: Readonly<Record<string, unknown>>;
  /** Trait name -> connector whose value won. */
  readonly traitSources: Readonly<Record<string, VendorId>>;
  readonly consent: { readonly email: ConsentTruth; readonly sms: ConsentTruth };
  readonly stats: Stats;
  readonly loyalty?: {
    readonly accountId: string;
    readonly balance: number;
    readonly lifetimePoints?: number;
  };
  readonly merges: readonly MergeTruth[];
  /** Canonical events on the person's timeline, by type. */
  readonly timeline: { readonly total: number; readonly byType: Readonly<Record<string, number>> };
  readonly checkouts: { readonly started: number; readonly completed: number };
  /**
   * The connector of the person's earliest event by vendor time (their own and their merged
   * profiles'): the analytics `first_channel`. Events without a vendor time count as received last.
   */
  readonly firstChannel: VendorId;
  /** Vendor time of that event; absent when the person's only events carry no vendor time. */
  readonly firstSeenAt?: string;
  /** Channels (`online`, `pos`) the person's orders were placed through, sorted, distinct. */
  readonly orderChannels: readonly ('online' | 'pos')[];
}

export interface JourneyTruth {
  readonly now: string;
  /** HTTP deliveries posted (each must be answered 2xx). */
  readonly webhooks: number;
  /** Canonical events they publish. */
  readonly events: number;
  readonly people: readonly PersonTruth[];
  /** Every checkout, in the order first reported. */
  readonly checkouts: readonly CheckoutTruth[];
  readonly totals: {
    readonly people: number;
    readonly orders: number;
    readonly refunds: number;
    /** Sum of order totals per currency (minor units), before refunds. */
    readonly revenue: Readonly<Record<string, number>>;
    readonly refunded: Readonly<Record<string, number>>;
    /** revenue - refunded, per currency: the sum of every profile's lifetimeValue. */
    readonly net: Readonly<Record<string, number>>;
    readonly checkouts: {
      readonly started: number;
      readonly completed: number;
      readonly abandoned: number;
      /** The same per cart currency, with what the abandoned carts held (minor units). */
      readonly byCurrency: Readonly<
        Record<
          string,
          {
            readonly started: number;
            readonly completed: number;
            readonly abandonedValue: number;
          }
        >
      >;
    };
    readonly merges: number;
    readonly eventsByType: Readonly<Record<string, number>>;
  };
}

/** Event time for last-writer-wins; events stamped on receipt come after every vendor time. */
const RECEIPT = '9999-12-31T23:59:59.999Z';
const timeOf = (event: ExpectedEvent) => event.at ?? RECEIPT;

function add(record: Record<string, number>, key: string, amount: number): void {
  record[key] = (record[key] ?? 0) + amount;
}

function orderPointer(event: ExpectedEvent): string | undefined {
  const orderId = event.order?.orderId ?? event.refund?.orderId;
  return orderId === undefined ? undefined : `order:${event.connector}:${orderId}`;
}

/** The kind of an identity key, as analytics names merge reasons: `ext:<system>`, `order:<connector>`. */
function keyKind(key: string): string {
  const [kind = '', system] = key.split(':', 2);
  return (kind === 'ext' || kind === 'order') && system ? `${kind}:${system}` : kind;
}

interface SimulatedProfile {
  readonly created: number;
  readonly person: PersonId;
  readonly keys: Set<string>;
}

/**
 * Replays identity resolution over the events in posting order: a new profile for unknown
 * identities, attach for one known profile, merge into the oldest when an event names several.
 * Throws if the journey would ever put two people on one profile (a mistake in the journey).
 */
function simulateMerges(journey: Journey): Map<PersonId, MergeTruth[]> {
  const merges = new Map<PersonId, MergeTruth[]>();
  let profiles: SimulatedProfile[] = [];
  let created = 0;
  for (const step of journey.steps) {
    for (const event of step.expected) {
      const keys = [...event.identities.map(identityKey), orderPointer(event)].filter(
        (key): key is string => key !== undefined,
      );
      const owners = profiles.filter((profile) => keys.some((key) => profile.keys.has(key)));
      if (owners.some((owner) => owner.person !== event.person)) {
        throw new Error(`journey error: "${step.story}" links ${event.person} to another person's profile`);
      }
      if (owners.length === 0) {
        if (event.identities.length > 0)
          profiles.push({ created: created++, person: event.person, keys: new Set(keys) });
        continue;
      }
      const [survivor, ...losers] = [...owners].sort((a, b) => a.created - b.created);
      if (!survivor) continue;
      const linkedBy = keys.filter((key) => owners.some((owner) => owner.keys.has(key)));
      for (const loser of losers) {
        const mergedBy = keys.filter((key) => loser.keys.has(key));
        const merge: MergeTruth = {
          linkedBy,
          story: step.story,
          mergedBy,
          reasons: [...new Set(mergedBy.map(keyKind))].sort(),
          connector: event.connector,
        };
        merges.set(event.person, [...(merges.get(event.person) ?? []), merge]);
        for (const key of loser.keys) survivor.keys.add(key);
      }
      for (const key of keys) survivor.keys.add(key);
      profiles = profiles.filter((profile) => !losers.includes(profile));
    }
  }
  return merges;
}

function personTruth(person: PersonId, events: readonly ExpectedEvent[], merges: MergeTruth[]): PersonTruth {
  const keys = new Set<string>();
  const channels = new Set<VendorId>();
  const traits: Record<string, { value: unknown; at: string; source: VendorId }> = {};
  const consent: Record<'email' | 'sms', ConsentTruth & { at?: string }> = {
    email: { status: 'unknown' },
    sms: { status: 'unknown' },
  };
  const orders = new Map<string, { amount: number; currency: string; at: string }>();
  const refunds = new Map<string, { amount: number; currency: string }>();
  const byType: Record<string, number> = {};
  const carts = new Map<string, boolean>();
  const orderChannels = new Set<'online' | 'pos'>();
  let first: { at: string; connector: VendorId } | undefined;
  let loyalty: (PersonTruth['loyalty'] & { at: string }) | undefined;

  for (const event of events) {
    for (const identity of event.identities) keys.add(identityKey(identity));
    channels.add(event.connector);
    add(byType, event.type, 1);
    const at = timeOf(event);
    if (!first || at < first.at) first = { at, connector: event.connector };
    for (const [name, value] of Object.entries(event.traits ?? {})) {
      const current = traits[name];
      if (!current || at > current.at) traits[name] = { value, at, source: event.connector };
    }
    if (event.consent) {
      const current = consent[event.consent.channel];
      if (current.at === undefined || at > current.at) {
        const { status, reason } = event.consent;
        consent[event.consent.channel] = {
          status,
          source: event.connector,
          ...(reason ? { reason } : {}),
          at,
        };
      }
    }
    if (event.order) {
      orders.set(`${event.connector}:${event.order.orderId}`, { ...event.order.total, at });
      orderChannels.add(event.order.channel);
    }
    if (event.refund) refunds.set(`${event.connector}:${event.refund.refundId}`, event.refund.amount);
    if (event.cart)
      carts.set(event.cart.cartId, (carts.get(event.cart.cartId) ?? false) || event.cart.completed);
    if (event.loyalty && (!loyalty || at > loyalty.at)) loyalty = { ...event.loyalty, at };
  }

  const lifetimeValue: Record<string, number> = {};
  for (const order of orders.values()) add(lifetimeValue, order.currency, order.amount);
  for (const refund of refunds.values()) add(lifetimeValue, refund.currency, -refund.amount);
  const orderTimes = [...orders.values()].map((order) => order.at).sort();
  const firstOrderAt = orderTimes[0];
  const lastOrderAt = orderTimes.at(-1);
  const record = people[person];
  const withoutTime = ({ at: _at, ...rest }: ConsentTruth & { at?: string }): ConsentTruth => rest;
  if (!first) throw new Error(`journey error: ${person} has no events`);
  return {
    person,
    name: `${record.firstName} ${record.lastName}`,
    lookup: { type: 'email', value: record.email.trim().toLowerCase() },
    identities: identitiesFromKeys([...keys].sort()),
    traits: Object.fromEntries(Object.entries(traits).map(([name, stamped]) => [name, stamped.value])),
    traitSources: Object.fromEntries(Object.entries(traits).map(([name, stamped]) => [name, stamped.source])),
    consent: { email: withoutTime(consent.email), sms: withoutTime(consent.sms) },
    stats: {
      orderCount: orders.size,
      lifetimeValue,
      ...(firstOrderAt ? { firstOrderAt } : {}),
      ...(lastOrderAt ? { lastOrderAt } : {}),
      channels: [...channels].sort(),
    },
    ...(loyalty
      ? {
          loyalty: {
            accountId: loyalty.accountId,
            balance: loyalty.balance,
            lifetimePoints: loyalty.lifetimePoints,
          },
        }
      : {}),
    merges,
    timeline: { total: events.length, byType },
    checkouts: { started: carts.size, completed: [...carts.values()].filter(Boolean).length },
    firstChannel: first.connector,
    ...(first.at === RECEIPT ? {} : { firstSeenAt: first.at }),
    orderChannels: [...orderChannels].sort(),
  };
}

export function truthOf(journey: Journey): JourneyTruth {
  const events = journey.steps.flatMap((step) => step.expected);
  const merges = simulateMerges(journey);
  const ids = [...new Set(events.map((event) => event.person))];
  const persons = ids.map((id) =>
    personTruth(
      id,
      events.filter((event) => event.person === id),
      merges.get(id) ?? [],
    ),
  );
  const revenue: Record<string, number> = {};
  const refunded: Record<string, number> = {};
  const eventsByType: Record<string, number> = {};
  const orderKeys = new Set<string>();
  const refundKeys = new Set<string>();
  for (const event of events) {
    add(eventsByType, event.type, 1);
    if (event.order && !orderKeys.has(`${event.connector}:${event.order.orderId}`)) {
      orderKeys.add(`${event.connector}:${event.order.orderId}`);
      add(revenue, event.order.total.currency, event.order.total.amount);
    }
    if (event.refund && !refundKeys.has(`${event.connector}:${event.refund.refundId}`)) {
      refundKeys.add(`${event.connector}:${event.refund.refundId}`);
      add(refunded, event.refund.amount.currency, event.refund.amount.amount);
    }
  }
  const checkouts = new Map<string, CheckoutTruth>();
  for (const event of events) {
    if (!event.cart) continue;
    const key = `${event.connector}:${event.cart.cartId}`;
    const known = checkouts.get(key);
    checkouts.set(key, {
      person: event.person,
      connector: event.connector,
      cartId: event.cart.cartId,
      total: event.cart.total,
      completed: (known?.completed ?? false) || event.cart.completed,
    });
  }
  const byCurrency: Record<string, { started: number; completed: number; abandonedValue: number }> = {};
  for (const checkout of checkouts.values()) {
    const entry = byCurrency[checkout.total.currency] ?? { started: 0, completed: 0, abandonedValue: 0 };
    byCurrency[checkout.total.currency] = entry;
    entry.started++;
    if (checkout.completed) entry.completed++;
    else entry.abandonedValue += checkout.total.amount;
  }
  const net: Record<string, number> = { ...revenue };
  for (const [currency, amount] of Object.entries(refunded)) add(net, currency, -amount);
  const started = persons.reduce((sum, person) => sum + person.checkouts.started, 0);
  const completed = persons.reduce((sum, person) => sum + person.checkouts.completed, 0);
  return {
    now: journey.now,
    webhooks: journey.steps.length,
    events: events.length,
    people: persons,
    checkouts: [...checkouts.values()],
    totals: {
      people: persons.length,
      orders: orderKeys.size,
      refunds: refundKeys.size,
      revenue,
      refunded,
      net,
      checkouts: { started, completed, abandoned: started - completed, byCurrency },
      merges: persons.reduce((sum, person) => sum + person.merges.length, 0),
      eventsByType,
    },
  };
}
