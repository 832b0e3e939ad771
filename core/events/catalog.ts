/**
 * The canonical event catalog: every event type Omnihub publishes, its current schema version, its
 * `data` schema, and the Segment e-commerce spec name analysts know it by.
 *
 * Rules: names are business facts in the past tense; a change that removes or retypes a field is a new
 * version (add it to `versions` and bump the type's number in `versions.ts`); adding an optional field
 * is not.
 * `npm run schemas` writes `schemas/<type>.v<version>.json` and `docs/events.md` from this file.
 */
import * as z from 'zod/mini';
import { Money } from '../money.ts';
import { described } from '../zod-messages.ts';
import { EVENT_VERSIONS, type EventType } from './versions.ts';

const Channel = described(z.enum(['email', 'sms']), 'The messaging channel');

const address = lazy(() =>
  described(
    z.object({
      line1: z.optional(z.string()),
      line2: z.optional(z.string()),
      city: z.optional(z.string()),
      region: described(z.optional(z.string()), 'State or province'),
      postalCode: z.optional(z.string()),
      country: described(z.optional(z.string()), 'ISO 3166-1 alpha-2 when the vendor gives one'),
    }),
    'A postal address',
  ),
);
/** A postal address as the catalog holds it. */
export type Address = z.infer<ReturnType<typeof address>>;

const traits = lazy(() =>
  described(
    z.partial(
      z.object({
        firstName: z.string(),
        lastName: z.string(),
        email: described(z.string(), 'Lower-cased'),
        phone: described(z.string(), 'E.164'),
        company: z.string(),
        address: address(),
        locale: z.string(),
        tags: z.array(z.string()),
      }),
    ),
    'What a system knows about the person; only the fields it sent',
  ),
);
/** What a system knows about a person, as `customer.upserted` carries it. */
export type Traits = z.infer<ReturnType<typeof traits>>;

export const ConsentStatus = z.enum(['subscribed', 'unsubscribed']);

const consentState = lazy(() => z.object({ status: ConsentStatus, reason: z.optional(z.string()) }));

const orderLine = lazy(() =>
  z.object({
    sku: z.optional(z.string()),
    title: z.optional(z.string()),
    productId: z.optional(z.string()),
    variantId: z.optional(z.string()),
    quantity: z.number().check(z.int()),
    unitPrice: z.optional(Money),
  }),
);

const order = lazy(() =>
  z.object({
    orderId: described(z.string(), "The vendor's order id"),
    orderNumber: described(z.optional(z.string()), 'Human-facing order name, e.g. #1001'),
    channel: described(z.enum(['online', 'pos']), 'Where the order was placed'),
    total: Money,
    subtotal: z.optional(Money),
    tax: z.optional(Money),
    financialStatus: described(z.optional(z.string()), "The vendor's payment status"),
    paymentId: described(
      z.optional(z.string()),
      'The payment that completed the order, where the vendor has one (Square)',
    ),
    lineItems: z.array(orderLine()),
  }),
);

const messageEventData = lazy(() =>
  z.object({
    channel: Channel,
    messageId: described(z.string(), "The vendor's message id (SendGrid sg_message_id, Twilio MessageSid)"),
    vendorStatus: described(z.string(), "The vendor's own status or event name"),
    reason: described(z.optional(z.string()), 'Bounce/failure reason or error code'),
    url: described(z.optional(z.string()), 'Clicked URL'),
    bounceType: z.optional(z.enum(['bounce', 'blocked'])),
    categories: z.optional(z.array(z.string())),
  }),
);

export interface CatalogEntry {
  /** Current schema version of `data`. */
  readonly version: number;
  readonly description: string;
  /** The Segment e-commerce / engage spec event analysts know this as, if any. */
  readonly segment?: string;
  readonly data: z.ZodMiniType<Record<string, unknown>>;
  /** Older versions still accepted from pinned producers. */
  readonly versions?: Readonly<Record<number, z.ZodMiniType<Record<string, unknown>>>>;
}

/**
 * Builds a schema on first use, once. A Lambda bundle holds the whole catalog but validates only the
 * types its connector emits: their schemas are built by the first delivery that emits them, the
 * others never (building all 22 at import cost several ms of every cold start).
 */
function lazy<S>(build: () => S): () => S {
  let schema: S | undefined;
  return () => {
    schema ??= build();
    return schema;
  };
}

/**
 * The catalog entry of `type`: its version from `versions.ts`, its own `data` schema type kept so
 * that `EventData<T>` (and `draft()`) check real fields, `data` built when first read (see
 * {@link lazy}).
 */
function entry<T extends EventType, D extends z.ZodMiniType<Record<string, unknown>>>(
  type: T,
  { data, ...fields }: Omit<CatalogEntry, 'version' | 'data'> & { readonly data: () => D },
) {
  const schema = lazy(data);
  return {
    ...fields,
    type,
    version: EVENT_VERSIONS[type],
    get data(): D {
      return schema();
    },
  };
}

export const catalog = {
  'customer.upserted': entry('customer.upserted', {
    description: 'A system created or changed its record of a person (only the fields it sent).',
    segment: 'Identify',
    data: () =>
      z.object({
        system: described(z.string(), 'Connector id of the system of record'),
        externalId: described(z.string(), "The system's own id for the person"),
        traits: traits(),
        consent: z.optional(z.object({ email: z.optional(consentState()), sms: z.optional(consentState()) })),
      }),
  }),
  'customer.deleted': entry('customer.deleted', {
    description: "A system deleted its record of a person. Removes that system's identity, not the person.",
    data: () => z.object({ system: z.string(), externalId: z.string() }),
  }),
  'customer.merged': entry('customer.merged', {
    description: 'A system merged several of its records into one (e.g. HubSpot contact.merge).',
    data: () =>
      z.object({
        system: z.string(),
        survivorId: z.string(),
        mergedIds: z.array(z.string()),
      }),
  }),
  'customer.linked': entry('customer.linked', {
    description:
      "Omnihub created or found the person's record in a system while syncing: that system's id joins the profile.",
    data: () =>
      z.object({
        system: described(z.string(), 'Connector id of the system that holds the record'),
        externalId: described(z.string(), "The system's own id for the person"),
        profileId: described(z.string(), 'The profile that was synced'),
      }),
  }),
  'order.placed': entry('order.placed', {
    description: 'An order was created (online checkout completed, or a completed in-store payment).',
    segment: 'Order Completed',
    data: order,
  }),
  'order.paid': entry('order.paid', {
    description: 'An order became fully paid.',
    segment: 'Order Completed',
    data: order,
  }),
  'order.cancelled': entry('order.cancelled', {
    description: 'An order was cancelled.',
    segment: 'Order Cancelled',
    data: () => z.object({ orderId: z.string(), reason: z.optional(z.string()), total: z.optional(Money) }),
  }),
  'order.refunded': entry('order.refunded', {
    description: 'Money was returned for an order (all or part).',
    segment: 'Order Refunded',
    data: () =>
      z.object({
        orderId: z.string(),
        refundId: z.string(),
        paymentId: described(
          z.optional(z.string()),
          'The refunded payment, where the vendor has one (Square)',
        ),
        amount: Money,
        reason: z.optional(z.string()),
      }),
  }),
  'cart.updated': entry('cart.updated', {
    description: 'A checkout/cart was started or changed; `completed` once it became an order.',
    segment: 'Checkout Started',
    data: () =>
      z.object({
        cartId: z.string(),
        total: Money,
        lineItems: z.array(orderLine()),
        completed: z.boolean(),
        recoveryUrl: described(z.optional(z.string()), 'Link that brings the person back to the cart'),
      }),
  }),
  'message.sent': entry('message.sent', {
    description: 'A message left the messaging platform.',
    data: messageEventData,
  }),
  'message.delivered': entry('message.delivered', {
    description: "A message reached the recipient's mailbox or handset.",
    segment: 'Email Delivered',
    data: messageEventData,
  }),
  'message.deferred': entry('message.deferred', {
    description: 'Delivery was delayed by the receiving server; the platform will retry.',
    data: messageEventData,
  }),
  'message.opened': entry('message.opened', {
    description: 'An email was opened, or an SMS/RCS read receipt came back.',
    segment: 'Email Opened',
    data: messageEventData,
  }),
  'message.clicked': entry('message.clicked', {
    description: 'A link in a message was clicked.',
    segment: 'Email Link Clicked',
    data: messageEventData,
  }),
  'message.bounced': entry('message.bounced', {
    description: 'The receiving server rejected the message (hard bounce or block).',
    segment: 'Email Bounced',
    data: messageEventData,
  }),
  'message.failed': entry('message.failed', {
    description: 'The platform dropped or could not deliver the message.',
    data: messageEventData,
  }),
  'message.received': entry('message.received', {
    description: 'The person sent us a message (an inbound SMS).',
    data: () =>
      z.object({
        channel: Channel,
        messageId: z.string(),
        to: described(z.string(), 'Our number that received it (E.164)'),
        body: described(z.string(), 'Message text; personal content, never logged'),
      }),
  }),
  'consent.changed': entry('consent.changed', {
    description: 'The person subscribed to or unsubscribed from a channel.',
    segment: 'Unsubscribed',
    data: () =>
      z.object({
        channel: Channel,
        status: ConsentStatus,
        scope: described(
          z.optional(z.string()),
          'Narrower than the whole channel, e.g. `group:42` (SendGrid ASM group)',
        ),
        reason: described(z.optional(z.string()), 'What caused it: keyword, spamreport, admin...'),
      }),
  }),
  'loyalty.updated': entry('loyalty.updated', {
    description: "A loyalty account's balance changed.",
    data: () =>
      z.object({
        accountId: z.string(),
        balance: z.number().check(z.int()),
        lifetimePoints: z.optional(z.number().check(z.int())),
      }),
  }),
  'profile.updated': entry('profile.updated', {
    description: 'The unified profile changed; `changes` lists the changed fields and their new values.',
    data: () =>
      z.object({
        profileId: z.string(),
        changes: z.record(z.string(), z.unknown()),
        causedBy: z.object({ eventId: z.string(), connector: z.string() }),
      }),
  }),
  'profile.merged': entry('profile.merged', {
    description: 'Two profiles were found to be one person; `merged` now redirects to `survivor`.',
    data: () =>
      z.object({
        survivor: z.string(),
        merged: z.string(),
        reason: z.object({ eventId: z.string(), identity: z.string() }),
      }),
  }),
  'profile.erased': entry('profile.erased', {
    description: 'A profile, its identities and its timeline were erased on request.',
    data: () => z.object({ profileId: z.string() }),
  }),
} as const satisfies { readonly [T in EventType]: CatalogEntry & { readonly type: T } };

export type { EventType } from './versions.ts';
export const eventTypes = Object.keys(catalog) as EventType[];

/** The `data` type of an event type, for translators. */
export type EventData<T extends EventType> = z.infer<(typeof catalog)[T]['data']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalog, type);
}

export { dataSchemaUri } from './versions.ts';
