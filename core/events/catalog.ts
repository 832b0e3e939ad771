/**
 * The canonical event catalog: every event type Omnihub publishes, its current schema version, its
 * `data` schema, and the Segment e-commerce spec name analysts know it by.
 *
 * Rules: names are business facts in the past tense; a change that removes or retypes a field is a new
 * version (add it to `versions` and bump `version`); adding an optional field is not.
 * `npm run schemas` writes `schemas/<type>.v<version>.json` and `docs/events.md` from this file.
 */
import * as z from 'zod';
import { Money } from '../money.ts';

const Channel = z.enum(['email', 'sms']).describe('The messaging channel');

export const Address = z
  .object({
    line1: z.string().optional(),
    line2: z.string().optional(),
    city: z.string().optional(),
    region: z.string().optional().describe('State or province'),
    postalCode: z.string().optional(),
    country: z.string().optional().describe('ISO 3166-1 alpha-2 when the vendor gives one'),
  })
  .describe('A postal address');

export const Traits = z
  .object({
    firstName: z.string(),
    lastName: z.string(),
    email: z.string().describe('Lower-cased'),
    phone: z.string().describe('E.164'),
    company: z.string(),
    address: Address,
    locale: z.string(),
    tags: z.array(z.string()),
  })
  .partial()
  .describe('What a system knows about the person; only the fields it sent');

export const ConsentStatus = z.enum(['subscribed', 'unsubscribed']);

const ConsentState = z.object({ status: ConsentStatus, reason: z.string().optional() });

const OrderLine = z.object({
  sku: z.string().optional(),
  title: z.string().optional(),
  productId: z.string().optional(),
  variantId: z.string().optional(),
  quantity: z.number().int(),
  unitPrice: Money.optional(),
});

const Order = z.object({
  orderId: z.string().describe("The vendor's order id"),
  orderNumber: z.string().optional().describe('Human-facing order name, e.g. #1001'),
  channel: z.enum(['online', 'pos']).describe('Where the order was placed'),
  total: Money,
  subtotal: Money.optional(),
  tax: Money.optional(),
  financialStatus: z.string().optional().describe("The vendor's payment status"),
  paymentId: z
    .string()
    .optional()
    .describe('The payment that completed the order, where the vendor has one (Square)'),
  lineItems: z.array(OrderLine),
});

const MessageEventData = z.object({
  channel: Channel,
  messageId: z.string().describe("The vendor's message id (SendGrid sg_message_id, Twilio MessageSid)"),
  vendorStatus: z.string().describe("The vendor's own status or event name"),
  reason: z.string().optional().describe('Bounce/failure reason or error code'),
  url: z.string().optional().describe('Clicked URL'),
  bounceType: z.enum(['bounce', 'blocked']).optional(),
  categories: z.array(z.string()).optional(),
});

export interface CatalogEntry {
  /** Current schema version of `data`. */
  readonly version: number;
  readonly description: string;
  /** The Segment e-commerce / engage spec event analysts know this as, if any. */
  readonly segment?: string;
  readonly data: z.ZodType<Record<string, unknown>>;
  /** Older versions still accepted from pinned producers. */
  readonly versions?: Readonly<Record<number, z.ZodType<Record<string, unknown>>>>;
}

/** Keeps each entry's own `data` schema type, so `EventData<T>` (and `draft()`) check real fields. */
function entry<D extends z.ZodType<Record<string, unknown>>>(
  e: Omit<CatalogEntry, 'data'> & { readonly data: D },
) {
  return e;
}

export const catalog = {
  'customer.upserted': entry({
    version: 1,
    description: 'A system created or changed its record of a person (only the fields it sent).',
    segment: 'Identify',
    data: z.object({
      system: z.string().describe('Connector id of the system of record'),
      externalId: z.string().describe("The system's own id for the person"),
      traits: Traits,
      consent: z.object({ email: ConsentState.optional(), sms: ConsentState.optional() }).optional(),
    }),
  }),
  'customer.deleted': entry({
    version: 1,
    description: "A system deleted its record of a person. Removes that system's identity, not the person.",
    data: z.object({ system: z.string(), externalId: z.string() }),
  }),
  'customer.merged': entry({
    version: 1,
    description: 'A system merged several of its records into one (e.g. HubSpot contact.merge).',
    data: z.object({
      system: z.string(),
      survivorId: z.string(),
      mergedIds: z.array(z.string()),
    }),
  }),
  'customer.linked': entry({
    version: 1,
    description:
      "Omnihub created or found the person's record in a system while syncing: that system's id joins the profile.",
    data: z.object({
      system: z.string().describe('Connector id of the system that holds the record'),
      externalId: z.string().describe("The system's own id for the person"),
      profileId: z.string().describe('The profile that was synced'),
    }),
  }),
  'order.placed': entry({
    version: 1,
    description: 'An order was created (online checkout completed, or a completed in-store payment).',
    segment: 'Order Completed',
    data: Order,
  }),
  'order.paid': entry({
    version: 1,
    description: 'An order became fully paid.',
    segment: 'Order Completed',
    data: Order,
  }),
  'order.cancelled': entry({
    version: 1,
    description: 'An order was cancelled.',
    segment: 'Order Cancelled',
    data: z.object({ orderId: z.string(), reason: z.string().optional(), total: Money.optional() }),
  }),
  'order.refunded': entry({
    version: 1,
    description: 'Money was returned for an order (all or part).',
    segment: 'Order Refunded',
    data: z.object({
      orderId: z.string(),
      refundId: z.string(),
      paymentId: z.string().optional().describe('The refunded payment, where the vendor has one (Square)'),
      amount: Money,
      reason: z.string().optional(),
    }),
  }),
  'cart.updated': entry({
    version: 1,
    description: 'A checkout/cart was started or changed; `completed` once it became an order.',
    segment: 'Checkout Started',
    data: z.object({
      cartId: z.string(),
      total: Money,
      lineItems: z.array(OrderLine),
      completed: z.boolean(),
      recoveryUrl: z.string().optional().describe('Link that brings the person back to the cart'),
    }),
  }),
  'message.sent': entry({
    version: 1,
    description: 'A message left the messaging platform.',
    data: MessageEventData,
  }),
  'message.delivered': entry({
    version: 1,
    description: "A message reached the recipient's mailbox or handset.",
    segment: 'Email Delivered',
    data: MessageEventData,
  }),
  'message.deferred': entry({
    version: 1,
    description: 'Delivery was delayed by the receiving server; the platform will retry.',
    data: MessageEventData,
  }),
  'message.opened': entry({
    version: 1,
    description: 'An email was opened, or an SMS/RCS read receipt came back.',
    segment: 'Email Opened',
    data: MessageEventData,
  }),
  'message.clicked': entry({
    version: 1,
    description: 'A link in a message was clicked.',
    segment: 'Email Link Clicked',
    data: MessageEventData,
  }),
  'message.bounced': entry({
    version: 1,
    description: 'The receiving server rejected the message (hard bounce or block).',
    segment: 'Email Bounced',
    data: MessageEventData,
  }),
  'message.failed': entry({
    version: 1,
    description: 'The platform dropped or could not deliver the message.',
    data: MessageEventData,
  }),
  'message.received': entry({
    version: 1,
    description: 'The person sent us a message (an inbound SMS).',
    data: z.object({
      channel: Channel,
      messageId: z.string(),
      to: z.string().describe('Our number that received it (E.164)'),
      body: z.string().describe('Message text; personal content, never logged'),
    }),
  }),
  'consent.changed': entry({
    version: 1,
    description: 'The person subscribed to or unsubscribed from a channel.',
    segment: 'Unsubscribed',
    data: z.object({
      channel: Channel,
      status: ConsentStatus,
      scope: z
        .string()
        .optional()
        .describe('Narrower than the whole channel, e.g. `group:42` (SendGrid ASM group)'),
      reason: z.string().optional().describe('What caused it: keyword, spamreport, admin...'),
    }),
  }),
  'loyalty.updated': entry({
    version: 1,
    description: "A loyalty account's balance changed.",
    data: z.object({
      accountId: z.string(),
      balance: z.number().int(),
      lifetimePoints: z.number().int().optional(),
    }),
  }),
  'profile.updated': entry({
    version: 1,
    description: 'The unified profile changed; `changes` lists the changed fields and their new values.',
    data: z.object({
      profileId: z.string(),
      changes: z.record(z.string(), z.unknown()),
      causedBy: z.object({ eventId: z.string(), connector: z.string() }),
    }),
  }),
  'profile.merged': entry({
    version: 1,
    description: 'Two profiles were found to be one person; `merged` now redirects to `survivor`.',
    data: z.object({
      survivor: z.string(),
      merged: z.string(),
      reason: z.object({ eventId: z.string(), identity: z.string() }),
    }),
  }),
  'profile.erased': entry({
    version: 1,
    description: 'A profile, its identities and its timeline were erased on request.',
    data: z.object({ profileId: z.string() }),
  }),
} as const satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof catalog;
export const eventTypes = Object.keys(catalog) as EventType[];

/** The `data` type of an event type, for translators. */
export type EventData<T extends EventType> = z.infer<(typeof catalog)[T]['data']>;

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalog, type);
}

/** The public URI of the JSON Schema for a type's data. */
export function dataSchemaUri(type: EventType, version: number = catalog[type].version): string {
  return `https://omnihub.dev/schemas/${type}.v${version}.json`;
}
