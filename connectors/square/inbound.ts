/**
 * Square inbound: one JSON event per request, split into a {@link Delivery}, and the topic map from
 * Square event types to canonical events.
 */
import type * as z from 'zod/mini';
import {
  type CanonicalEventDraft,
  type Delivery,
  draft,
  topic,
  type WebhookRequest,
} from '../../core/connector.ts';
import { ValidationError } from '../../core/errors.ts';
import type { Address, ConsentStatus, Traits } from '../../core/events/catalog.ts';
import { identitiesOf, normalizeEmail, normalizePhone } from '../../core/identity/identity.ts';
import { parseJson } from '../../core/ingest/body.ts';
import { Currency, type Money } from '../../core/money.ts';
import {
  CustomerDeletedEvent,
  CustomerEvent,
  LoyaltyAccountEvent,
  PaymentEvent,
  RefundEvent,
  type SquareAddress,
  type SquareCustomer,
  type SquareMoney,
  type SquarePayment,
} from './schema.ts';

/** Connector id: external ids are `square:<Square id>`. */
export const SQUARE = 'square';

// The catalog's `Traits` and `Address`, not `EventData<'customer.upserted'>`: that type is widened to
// `Record<string, unknown>` by the catalog's `entry()` helper, so it would check nothing here.
type EmailConsent = { email: { status: z.infer<typeof ConsentStatus> } };

// ---------------------------------------------------------------------------------------------
// Envelope

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Resources whose completion is announced more than once. Square sends several `payment.updated`
 * events for one payment, each with its own `event_id` and often all with `status: COMPLETED`
 * (processing fee settled, customer attached, refund recorded...), and a payment taken as completed
 * is announced by `payment.created` already. Refunds behave the same way. Deduplicating on
 * `event_id` alone would publish one `order.placed` per such event, so completions are keyed by the
 * resource instead: whichever completed event arrives first is published, the others are duplicates.
 */
const completionResources: ReadonlyMap<string, 'payment' | 'refund'> = new Map([
  ['payment.created', 'payment'],
  ['payment.updated', 'payment'],
  ['refund.created', 'refund'],
  ['refund.updated', 'refund'],
]);

/** The idempotency key of one Square event: `event_id`, or the completed resource (see above). */
export function deliveryIdOf(type: string, eventId: string, event: Record<string, unknown>): string {
  const resource = completionResources.get(type);
  if (resource === undefined || !isRecord(event.data) || !isRecord(event.data.object)) return eventId;
  const object = event.data.object[resource];
  if (
    isRecord(object) &&
    object.status === 'COMPLETED' &&
    typeof object.id === 'string' &&
    object.id !== ''
  ) {
    return `${resource}:${object.id}:completed`;
  }
  return eventId;
}

/**
 * Square posts exactly one event per request: `{ merchant_id, type, event_id, created_at, data }`.
 * `type` selects the translator and `event_id` is the idempotency key Square documents.
 */
export function parseSquareEvent(request: WebhookRequest): Delivery[] {
  const event = parseJson(request.body);
  if (!isRecord(event)) {
    throw new ValidationError('the body must be one Square event (a JSON object)', 'invalid_event');
  }
  const { type, event_id: eventId } = event;
  if (typeof eventId !== 'string' || eventId === '') {
    throw new ValidationError('the event has no event_id', 'invalid_event');
  }
  if (typeof type !== 'string' || type === '') {
    throw new ValidationError('the event has no type', 'invalid_event');
  }
  return [{ deliveryId: deliveryIdOf(type, eventId, event), topic: type, payload: event }];
}

// ---------------------------------------------------------------------------------------------
// Field mappings (Square field -> canonical field) and the one function that applies them

const customerTraitFields = [
  ['given_name', 'firstName'],
  ['family_name', 'lastName'],
  ['company_name', 'company'],
] as const satisfies ReadonlyArray<readonly [keyof SquareCustomer, keyof Traits]>;

const addressFields = [
  ['address_line_1', 'line1'],
  ['address_line_2', 'line2'],
  ['locality', 'city'],
  ['administrative_district_level_1', 'region'],
  ['postal_code', 'postalCode'],
  ['country', 'country'],
] as const satisfies ReadonlyArray<readonly [keyof SquareAddress, keyof Address]>;

/** Copies the non-blank text fields named by `rows`, trimmed, under their canonical names. */
function mapText<T extends string>(
  source: Readonly<Record<string, unknown>>,
  rows: ReadonlyArray<readonly [string, T]>,
): Partial<Record<T, string>> {
  const out: Partial<Record<T, string>> = {};
  for (const [from, to] of rows) {
    const value: unknown = source[from];
    if (typeof value === 'string' && value.trim() !== '') out[to] = value.trim();
  }
  return out;
}

/** Square's `Country` enum uses `ZZ` for "unknown"; that is no country at all. */
const UNKNOWN_COUNTRY = 'ZZ';

function addressOf(address: SquareAddress | null | undefined): Address | undefined {
  if (!address) return undefined;
  const mapped = mapText(address, addressFields);
  if (mapped.country === UNKNOWN_COUNTRY) delete mapped.country;
  return Object.keys(mapped).length > 0 ? mapped : undefined;
}

// ---------------------------------------------------------------------------------------------
// Rules that are real logic: money, consent, time

/**
 * A Square `Money` as canonical {@link Money}. Square amounts are already integer minor units (cents,
 * yen), so the amount is kept exactly; only the currency code is checked (Square's own enum also
 * holds `UNKNOWN_CURRENCY`, which is no ISO 4217 code).
 */
export function squareMoney(value: SquareMoney | null | undefined, field: string): Money {
  if (!value) throw new ValidationError(`${field} is missing`, 'invalid_payload');
  if (!Currency.safeParse(value.currency).success) {
    throw new ValidationError(
      `${field}.currency is not an ISO 4217 code: ${JSON.stringify(value.currency)}`,
      'invalid_payload',
    );
  }
  return { amount: value.amount, currency: value.currency };
}

/**
 * The amount a completed payment becomes as the order total: `total_money` (= `amount_money` +
 * `tip_money`, what the buyer paid), else `amount_money` for payments without a tip field. Tips are
 * part of what was paid, as they are in Shopify's `total_price`, and refunds (`amount_money` of a
 * refund) can include them, so totals and refunds stay comparable.
 */
export function paymentTotal(payment: SquarePayment): Money {
  return payment.total_money
    ? squareMoney(payment.total_money, 'payment.total_money')
    : squareMoney(payment.amount_money, 'payment.amount_money');
}

/**
 * Email consent from `preferences.email_unsubscribed`. Square can only say that someone opted out:
 * `false` is the default of every customer record, not an opt-in, so it yields no consent at all.
 * Mapping it to `subscribed` would re-subscribe, in every connected system, people who unsubscribed
 * elsewhere, each time their Square record is touched.
 */
export function emailConsentOf(customer: SquareCustomer): EmailConsent | undefined {
  return customer.preferences?.email_unsubscribed === true
    ? { email: { status: 'unsubscribed' } }
    : undefined;
}

/** When it happened: the resource's `updated_at` when Square sends one, else the event's `created_at`. */
function occurredAt(resource: { updated_at?: string | null }, event: { created_at: string }): string {
  return resource.updated_at ?? event.created_at;
}

/** Square products that sell online; everything else (POS, Terminal, invoices...) counts as `pos`. */
const onlineProducts: ReadonlySet<string> = new Set(['ONLINE_STORE', 'ECOMMERCE_API']);

function channelOf(payment: SquarePayment): 'online' | 'pos' {
  const product = payment.application_details?.square_product;
  return product && onlineProducts.has(product) ? 'online' : 'pos';
}

function nonBlank(value: string | null | undefined): string | undefined {
  return value && value.trim() !== '' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Translators

/** The customer's traits: only the fields Square sent, with email and phone normalised. */
export function traitsOf(customer: SquareCustomer): Traits {
  const email = normalizeEmail(customer.email_address);
  const phone = normalizePhone(customer.phone_number);
  const address = addressOf(customer.address);
  return {
    ...mapText(customer, customerTraitFields),
    ...(email ? { email } : {}),
    ...(phone ? { phone } : {}),
    ...(address ? { address } : {}),
  };
}

/**
 * `customer.created` / `customer.updated` -> `customer.upserted`; a customer created by merging others
 * (`event_context.merge`) is also a `customer.merged`, published after the survivor's upsert.
 */
export function toCustomerUpserted(event: CustomerEvent): CanonicalEventDraft[] {
  const { customer, event_context: context } = event.data.object;
  const when = occurredAt(customer, event);
  const identities = identitiesOf({
    email: customer.email_address,
    phone: customer.phone_number,
    external: [[SQUARE, customer.id]],
  });
  const consent = emailConsentOf(customer);
  const drafts: CanonicalEventDraft[] = [
    draft('customer.upserted', {
      occurredAt: when,
      identities,
      data: {
        system: SQUARE,
        externalId: customer.id,
        traits: traitsOf(customer),
        ...(consent ? { consent } : {}),
      },
    }),
  ];
  const merge = context?.merge;
  const survivorId = merge?.to_customer_id ?? customer.id;
  const mergedIds = (merge?.from_customer_ids ?? []).filter((id) => id !== survivorId);
  if (merge && mergedIds.length > 0) {
    drafts.push(
      draft('customer.merged', {
        occurredAt: when,
        identities: identitiesOf({ external: [[SQUARE, survivorId]] }),
        data: { system: SQUARE, survivorId, mergedIds },
      }),
    );
  }
  return drafts;
}

/** `customer.deleted` -> `customer.deleted` (Square's record only; the person's profile stays). */
export function toCustomerDeleted(event: CustomerDeletedEvent): CanonicalEventDraft[] {
  const customerId = event.data.id;
  return [
    draft('customer.deleted', {
      occurredAt: event.created_at,
      identities: identitiesOf({ external: [[SQUARE, customerId]] }),
      data: { system: SQUARE, externalId: customerId },
    }),
  ];
}

/**
 * `payment.created` / `payment.updated` with `status: COMPLETED` -> `order.placed`; any other status
 * (APPROVED, PENDING, CANCELED, FAILED) publishes nothing. Square payment events carry no line items
 * (they live on the Order, fetched through the Orders API), so `lineItems` is empty.
 */
export function toOrderPlaced(event: PaymentEvent): CanonicalEventDraft[] {
  const { payment } = event.data.object;
  if (payment.status !== 'COMPLETED') return [];
  const receipt = nonBlank(payment.receipt_number);
  return [
    draft('order.placed', {
      occurredAt: occurredAt(payment, event),
      identities: identitiesOf({
        email: payment.buyer_email_address,
        external: [[SQUARE, payment.customer_id]],
      }),
      data: {
        // Several payments (split tender) can share one order; a payment without an order is its own.
        orderId: nonBlank(payment.order_id) ?? payment.id,
        ...(receipt ? { orderNumber: receipt } : {}),
        channel: channelOf(payment),
        total: paymentTotal(payment),
        financialStatus: payment.status,
        // Refunds name the payment (and a return order, not this one): the profile finds them by it.
        paymentId: payment.id,
        lineItems: [],
      },
    }),
  ];
}

/**
 * `refund.created` / `refund.updated` with `status: COMPLETED` -> `order.refunded`; PENDING, REJECTED
 * and FAILED publish nothing. Refund events name no customer, so the event carries no identity.
 */
export function toOrderRefunded(event: RefundEvent): CanonicalEventDraft[] {
  const { refund } = event.data.object;
  if (refund.status !== 'COMPLETED') return [];
  const orderId = nonBlank(refund.order_id) ?? nonBlank(refund.payment_id);
  if (orderId === undefined)
    throw new ValidationError('refund has neither order_id nor payment_id', 'invalid_payload');
  const reason = nonBlank(refund.reason);
  const paymentId = nonBlank(refund.payment_id);
  return [
    draft('order.refunded', {
      occurredAt: occurredAt(refund, event),
      identities: [],
      data: {
        orderId,
        refundId: refund.id,
        ...(paymentId ? { paymentId } : {}),
        amount: squareMoney(refund.amount_money, 'refund.amount_money'),
        ...(reason ? { reason } : {}),
      },
    }),
  ];
}

/** `loyalty.account.updated` -> `loyalty.updated`, identified by the customer and the mapped phone. */
export function toLoyaltyUpdated(event: LoyaltyAccountEvent): CanonicalEventDraft[] {
  const account = event.data.object.loyalty_account;
  return [
    draft('loyalty.updated', {
      occurredAt: occurredAt(account, event),
      identities: identitiesOf({
        phone: account.mapping?.phone_number,
        external: [[SQUARE, account.customer_id]],
      }),
      data: {
        accountId: account.id,
        balance: account.balance,
        ...(typeof account.lifetime_points === 'number' ? { lifetimePoints: account.lifetime_points } : {}),
      },
    }),
  ];
}

/** Square event type -> schema + translator. Event types not listed are acknowledged and counted. */
export const squareTopics = {
  'customer.created': topic(CustomerEvent, toCustomerUpserted),
  'customer.updated': topic(CustomerEvent, toCustomerUpserted),
  'customer.deleted': topic(CustomerDeletedEvent, toCustomerDeleted),
  'payment.created': topic(PaymentEvent, toOrderPlaced),
  'payment.updated': topic(PaymentEvent, toOrderPlaced),
  'refund.created': topic(RefundEvent, toOrderRefunded),
  'refund.updated': topic(RefundEvent, toOrderRefunded),
  'loyalty.account.updated': topic(LoyaltyAccountEvent, toLoyaltyUpdated),
};
