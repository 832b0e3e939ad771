/**
 * Shopify inbound: one webhook = one delivery (topic from the headers, the REST resource as the body),
 * and the topic -> translator map to canonical events.
 */

import type {
  CanonicalEventDraft,
  Delivery,
  TopicDefinition,
  TranslateContext,
  WebhookRequest,
} from '../../core/connector.ts';
import { draft, topic } from '../../core/connector.ts';
import { ValidationError } from '../../core/errors.ts';
import type { EventData } from '../../core/events/catalog.ts';
import {
  type Identity,
  identitiesOf,
  identityKey,
  normalizeEmail,
  normalizePhone,
} from '../../core/identity/identity.ts';
import { parseJsonKeepingLargeIntegers } from '../../core/ingest/body.ts';
import { type Money, money } from '../../core/money.ts';
import {
  Checkout,
  Customer,
  DeletedCustomer,
  EmailConsentUpdate,
  type LineItem,
  type MailingAddress,
  Order,
  Refund,
  SmsConsentUpdate,
  type Transaction,
} from './schema.ts';
import { firstHeader } from './verify.ts';

/** Connector id, event source suffix and the `system` of external identities. */
export const SYSTEM = 'shopify';

/** Classic webhook headers first, then the unprefixed names of the newer "Events" deliveries. */
const TOPIC_HEADERS = ['x-shopify-topic', 'shopify-topic'];
const EVENT_ID_HEADERS = ['x-shopify-event-id', 'shopify-event-id'];
const WEBHOOK_ID_HEADERS = ['x-shopify-webhook-id', 'shopify-webhook-id'];
const TRIGGERED_AT_HEADERS = ['x-shopify-triggered-at', 'shopify-triggered-at'];

type ConsentStatus = EventData<'consent.changed'>['status'];
type OrderData = EventData<'order.placed'>;
type OrderLine = OrderData['lineItems'][number];
type Traits = EventData<'customer.upserted'>['traits'];
type Address = NonNullable<Traits['address']>;

// ---------------------------------------------------------------------------------------------------
// Envelope

/**
 * Splits a verified Shopify webhook into its single delivery.
 *
 * The idempotency key: Shopify says to dedupe on `X-Shopify-Event-Id`, but that id is "shared across
 * all deliveries produced by the same merchant action" (shopify.dev, webhooks delivery structure),
 * so one action that fires `orders/create` and `orders/paid` sends both with the same event id. The
 * key is therefore `<topic>:<event id>`: retries and duplicate subscriptions to one topic collapse,
 * different topics of one action do not. Without an event id, `X-Shopify-Webhook-Id` (unique per
 * delivery, kept across retries) is the key.
 *
 * @throws ValidationError (400) when the topic or both ids are missing, or the body is not a JSON object.
 */
export function parseShopifyWebhook(request: WebhookRequest): Delivery[] {
  const topicName = firstHeader(request.headers, TOPIC_HEADERS);
  if (topicName === undefined) {
    throw new ValidationError('the X-Shopify-Topic header is missing', 'missing_topic');
  }
  const eventId = firstHeader(request.headers, EVENT_ID_HEADERS);
  const deliveryId =
    eventId !== undefined ? `${topicName}:${eventId}` : firstHeader(request.headers, WEBHOOK_ID_HEADERS);
  if (deliveryId === undefined) {
    throw new ValidationError(
      'neither X-Shopify-Event-Id nor X-Shopify-Webhook-Id is present; a delivery cannot be deduplicated without one',
      'missing_delivery_id',
    );
  }
  const payload = parseJsonKeepingLargeIntegers(request.body);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ValidationError('a Shopify webhook body must be a JSON object', 'malformed_body');
  }
  return [{ deliveryId, topic: topicName, payload }];
}

// ---------------------------------------------------------------------------------------------------
// Small shared rules

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/**
 * When it happened: the first of the resource's own timestamps that is a valid ISO date-time, else
 * the `X-Shopify-Triggered-At` header (retries keep the original payload, so the resource's clock
 * is the better one).
 */
export function occurredAt(
  request: WebhookRequest,
  ...candidates: ReadonlyArray<string | null | undefined>
): string {
  for (const candidate of [...candidates, firstHeader(request.headers, TRIGGERED_AT_HEADERS)]) {
    if (candidate && ISO_DATE_TIME.test(candidate) && !Number.isNaN(Date.parse(candidate))) return candidate;
  }
  throw new ValidationError(
    'the payload has no usable timestamp and X-Shopify-Triggered-At is missing',
    'missing_timestamp',
  );
}

/**
 * Shopify marketing consent `state` -> canonical status. `pending` (double opt-in not yet confirmed)
 * maps to nothing: the person has not consented yet, and treating it as an opt-out could overwrite a
 * consent another system holds. Unknown states also map to nothing.
 */
const CONSENT_BY_STATE: ReadonlyMap<string, ConsentStatus> = new Map([
  ['subscribed', 'subscribed'],
  ['unsubscribed', 'unsubscribed'],
  ['not_subscribed', 'unsubscribed'],
  ['redacted', 'unsubscribed'],
  ['invalid', 'unsubscribed'],
]);

/** Canonical consent status of a Shopify consent `state` (any case), or undefined (pending, unknown). */
export function consentStatusOf(state: string | null | undefined): ConsentStatus | undefined {
  return state ? CONSENT_BY_STATE.get(state.trim().toLowerCase()) : undefined;
}

/** Field mapping rows: canonical field <- the first non-blank of these Shopify fields (declared ones). */
type FieldRows<Target extends string, Source> = Readonly<Record<Target, ReadonlyArray<keyof Source>>>;

const ADDRESS_FIELDS: FieldRows<keyof Address, MailingAddress> = {
  line1: ['address1'],
  line2: ['address2'],
  city: ['city'],
  region: ['province_code', 'province'],
  postalCode: ['zip'],
  country: ['country_code', 'country'],
};

const NAME_FIELDS: FieldRows<'firstName' | 'lastName', Customer> = {
  firstName: ['first_name'],
  lastName: ['last_name'],
};

const LINE_FIELDS: FieldRows<'sku' | 'title' | 'productId' | 'variantId', LineItem> = {
  sku: ['sku'],
  title: ['title'],
  productId: ['product_id'],
  variantId: ['variant_id'],
};

/** Applies mapping rows: only fields with a non-blank string value are set. */
export function mapFields<Target extends string, Source extends object>(
  source: Source,
  rows: FieldRows<Target, Source>,
): Partial<Record<Target, string>> {
  const out: Partial<Record<Target, string>> = {};
  for (const [target, candidates] of Object.entries(rows) as Array<[Target, ReadonlyArray<keyof Source>]>) {
    for (const field of candidates) {
      const value = source[field];
      if (typeof value === 'string' && value.trim() !== '') {
        out[target] = value.trim();
        break;
      }
    }
  }
  return out;
}

/** REST sends tags as one comma-separated string ("VIP, repeat"); an array is tolerated. */
export function splitTags(tags: string | readonly string[]): string[] {
  const list = typeof tags === 'string' ? tags.split(',') : tags;
  return list.map((tag) => tag.trim()).filter((tag) => tag !== '');
}

/** Identities from several places of one payload, in order, without repeats. */
function uniqueIdentities(...groups: Identity[][]): Identity[] {
  const seen = new Set<string>();
  return groups.flat().filter((identity) => {
    const key = identityKey(identity);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Buyer {
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly customer?: {
    readonly id?: string | null;
    readonly email?: string | null;
    readonly phone?: string | null;
  } | null;
}

/** The buyer of an order or checkout: its contact email/phone, then the linked customer's. */
function buyerIdentities(resource: Buyer): Identity[] {
  return uniqueIdentities(
    identitiesOf({
      email: resource.email,
      phone: resource.phone,
      external: [[SYSTEM, resource.customer?.id]],
    }),
    identitiesOf({ email: resource.customer?.email, phone: resource.customer?.phone }),
  );
}

function orderLine(line: LineItem, currency: string): OrderLine {
  return {
    ...mapFields(line, LINE_FIELDS),
    quantity: line.quantity,
    ...(line.price != null ? { unitPrice: money(line.price, currency) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// Translators

/** customers/create, customers/update -> customer.upserted (consent only when the payload has it). */
export function toCustomerUpserted(customer: Customer, context: TranslateContext): CanonicalEventDraft[] {
  const email = normalizeEmail(customer.email);
  const phone = normalizePhone(customer.phone);
  const address = customer.default_address ? mapFields(customer.default_address, ADDRESS_FIELDS) : {};
  const traits: Traits = {
    ...mapFields(customer, NAME_FIELDS),
    ...(email ? { email } : {}),
    ...(phone ? { phone } : {}),
    ...(Object.keys(address).length > 0 ? { address } : {}),
    ...(customer.tags != null ? { tags: splitTags(customer.tags) } : {}),
  };
  const emailConsent = consentStatusOf(customer.email_marketing_consent?.state);
  const smsConsent = consentStatusOf(customer.sms_marketing_consent?.state);
  const consent = {
    ...(emailConsent ? { email: { status: emailConsent } } : {}),
    ...(smsConsent ? { sms: { status: smsConsent } } : {}),
  };
  return [
    draft('customer.upserted', {
      occurredAt: occurredAt(context.request, customer.updated_at, customer.created_at),
      identities: identitiesOf({ email, phone, external: [[SYSTEM, customer.id]] }),
      data: {
        system: SYSTEM,
        externalId: customer.id,
        traits,
        ...(emailConsent || smsConsent ? { consent } : {}),
      },
    }),
  ];
}

/** customers/delete -> customer.deleted. The payload is little more than the id. */
export function toCustomerDeleted(
  customer: DeletedCustomer,
  context: TranslateContext,
): CanonicalEventDraft[] {
  return [
    draft('customer.deleted', {
      occurredAt: occurredAt(context.request, customer.updated_at),
      identities: identitiesOf({ external: [[SYSTEM, customer.id]] }),
      data: { system: SYSTEM, externalId: customer.id },
    }),
  ];
}

/** The canonical order of an Order payload; amounts are the shop-currency ones (`currency`). */
function orderData(order: Order): OrderData {
  const optional = (decimal: string | number | null | undefined): Money | undefined =>
    decimal != null ? money(decimal, order.currency) : undefined;
  const subtotal = optional(order.subtotal_price);
  const tax = optional(order.total_tax);
  return {
    orderId: order.id,
    ...(order.name ? { orderNumber: order.name } : {}),
    // Shopify POS orders arrive on the same topics; everything else is an online sale.
    channel: order.source_name === 'pos' ? 'pos' : 'online',
    total: money(order.total_price, order.currency),
    ...(subtotal ? { subtotal } : {}),
    ...(tax ? { tax } : {}),
    ...(order.financial_status ? { financialStatus: order.financial_status } : {}),
    lineItems: (order.line_items ?? []).map((line) => orderLine(line, order.currency)),
  };
}

/** orders/create -> order.placed. */
export function toOrderPlaced(order: Order, context: TranslateContext): CanonicalEventDraft[] {
  return [
    draft('order.placed', {
      occurredAt: occurredAt(context.request, order.created_at, order.processed_at, order.updated_at),
      identities: buyerIdentities(order),
      data: orderData(order),
    }),
  ];
}

/** orders/paid -> order.paid (fires when `financial_status` becomes `paid`). */
export function toOrderPaid(order: Order, context: TranslateContext): CanonicalEventDraft[] {
  return [
    draft('order.paid', {
      occurredAt: occurredAt(context.request, order.updated_at, order.processed_at, order.created_at),
      identities: buyerIdentities(order),
      data: orderData(order),
    }),
  ];
}

/** orders/cancelled -> order.cancelled. */
export function toOrderCancelled(order: Order, context: TranslateContext): CanonicalEventDraft[] {
  return [
    draft('order.cancelled', {
      occurredAt: occurredAt(context.request, order.cancelled_at, order.updated_at),
      identities: buyerIdentities(order),
      data: {
        orderId: order.id,
        ...(order.cancel_reason ? { reason: order.cancel_reason } : {}),
        total: money(order.total_price, order.currency),
      },
    }),
  ];
}

/** A refund transaction that actually returned money. */
function isSuccessfulRefund(
  transaction: Transaction,
): transaction is Transaction & { amount: string | number } {
  return (
    transaction.kind?.toLowerCase() === 'refund' &&
    transaction.status?.toLowerCase() === 'success' &&
    transaction.amount != null
  );
}

/** The shop currency as the refund's `*_set.shop_money.currency_code` fields state it. */
function shopCurrencyOf(refund: Refund): string | undefined {
  const bags = [
    ...(refund.refund_line_items ?? []).map((line) => line.subtotal_set),
    ...(refund.order_adjustments ?? []).map((adjustment) => adjustment.amount_set),
  ];
  return (
    bags
      .map((bag) => bag?.shop_money?.currency_code)
      .find((code) => typeof code === 'string' && code !== '') ?? undefined
  );
}

/**
 * The money a refund returned: the sum of its successful `refund` transactions, in their currency
 * (each transaction's `currency`; else the shop currency from the `*_set` fields). Undefined when no
 * transaction succeeded (a restock-only refund, or a gateway refund still pending).
 *
 * @throws ValidationError when the amounts are in several currencies or in none we can tell.
 */
export function refundedAmount(refund: Refund): Money | undefined {
  const transactions = (refund.transactions ?? []).filter(isSuccessfulRefund);
  if (transactions.length === 0) return undefined;
  const fallback = shopCurrencyOf(refund);
  const currencies = new Set(
    transactions.map((transaction) => (transaction.currency || fallback)?.toUpperCase()),
  );
  const [currency] = currencies;
  if (currencies.size !== 1 || currency === undefined || !/^[A-Z]{3}$/.test(currency)) {
    throw new ValidationError('refund transactions have no single known currency', 'invalid_payload');
  }
  // Summed in integer minor units, never as floats.
  const amount = transactions.reduce(
    (sum, transaction) => sum + money(transaction.amount, currency).amount,
    0,
  );
  return { amount, currency };
}

/** refunds/create -> order.refunded. No customer in the payload: the profile links it by orderId. */
export function toOrderRefunded(refund: Refund, context: TranslateContext): CanonicalEventDraft[] {
  const amount = refundedAmount(refund);
  if (amount === undefined) return [];
  const reason = refund.note?.trim();
  return [
    draft('order.refunded', {
      occurredAt: occurredAt(context.request, refund.processed_at, refund.created_at),
      identities: [],
      data: { orderId: refund.order_id, refundId: refund.id, amount, ...(reason ? { reason } : {}) },
    }),
  ];
}

/**
 * The cart id: the checkout's `id`, or its `token` when the payload has none (Shopify's published
 * `checkouts/*` samples carry only `token`).
 *
 * @throws ValidationError when it has neither (the schema refuses that first).
 */
export function cartIdOf(checkout: Pick<Checkout, 'id' | 'token'>): string {
  const cartId = checkout.id ?? checkout.token?.trim();
  if (!cartId) throw new ValidationError('the checkout has neither id nor token', 'invalid_payload');
  return cartId;
}

/** checkouts/create, checkouts/update -> cart.updated. */
export function toCartUpdated(checkout: Checkout, context: TranslateContext): CanonicalEventDraft[] {
  return [
    draft('cart.updated', {
      occurredAt: occurredAt(context.request, checkout.updated_at, checkout.created_at),
      identities: buyerIdentities(checkout),
      data: {
        cartId: cartIdOf(checkout),
        total: money(checkout.total_price, checkout.currency),
        lineItems: (checkout.line_items ?? []).map((line) => orderLine(line, checkout.currency)),
        completed: checkout.completed_at != null,
        ...(checkout.abandoned_checkout_url ? { recoveryUrl: checkout.abandoned_checkout_url } : {}),
      },
    }),
  ];
}

/** customers_email_marketing_consent/update -> consent.changed (email); `pending` -> nothing. */
export function toEmailConsentChanged(
  update: EmailConsentUpdate,
  context: TranslateContext,
): CanonicalEventDraft[] {
  const status = consentStatusOf(update.email_marketing_consent.state);
  if (status === undefined) return [];
  return [
    draft('consent.changed', {
      occurredAt: occurredAt(context.request, update.email_marketing_consent.consent_updated_at),
      identities: identitiesOf({
        email: update.email_address,
        external: [[SYSTEM, update.customer_id ?? update.id]],
      }),
      data: { channel: 'email', status },
    }),
  ];
}

/** customers_marketing_consent/update -> consent.changed (sms); `pending` -> nothing. */
export function toSmsConsentChanged(
  update: SmsConsentUpdate,
  context: TranslateContext,
): CanonicalEventDraft[] {
  const status = consentStatusOf(update.sms_marketing_consent.state);
  if (status === undefined) return [];
  return [
    draft('consent.changed', {
      occurredAt: occurredAt(context.request, update.sms_marketing_consent.consent_updated_at),
      identities: identitiesOf({
        phone: update.phone,
        external: [[SYSTEM, update.id ?? update.customer_id]],
      }),
      data: { channel: 'sms', status },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Topic map

const emailConsentTopic = topic(EmailConsentUpdate, toEmailConsentChanged);
const smsConsentTopic = topic(SmsConsentUpdate, toSmsConsentChanged);

/** Shopify topic (the `X-Shopify-Topic` value) -> schema + translator. Other topics: 200, not published. */
export const shopifyTopics: Readonly<Record<string, TopicDefinition>> = {
  'customers/create': topic(Customer, toCustomerUpserted),
  'customers/update': topic(Customer, toCustomerUpserted),
  'customers/delete': topic(DeletedCustomer, toCustomerDeleted),
  'orders/create': topic(Order, toOrderPlaced),
  'orders/paid': topic(Order, toOrderPaid),
  'orders/cancelled': topic(Order, toOrderCancelled),
  'refunds/create': topic(Refund, toOrderRefunded),
  'checkouts/create': topic(Checkout, toCartUpdated),
  'checkouts/update': topic(Checkout, toCartUpdated),
  'customers_email_marketing_consent/update': emailConsentTopic,
  'customers_marketing_consent/update': smsConsentTopic,
  // The spellings of the issue and of vendors/README.md. Shopify itself sends the two above (its
  // GraphQL enum CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE reads both ways); kept as aliases so a
  // subscription or test written from the issue text is not silently dropped as "untranslated".
  'customers/email_marketing_consent_update': emailConsentTopic,
  'customers/marketing_consent_update': smsConsentTopic,
};
