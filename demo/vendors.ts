/**
 * Builders of the demo's vendor webhooks, each in the vendor's own wire format (the shapes of
 * `connectors/<id>/fixtures/*.json`), and of the canonical events each one is expected to become.
 *
 * A builder takes one set of values and produces both the payload and its expected events, so the
 * expectations (`truth.ts`) cannot drift from what is posted. Vendor ids are derived from a seed so a
 * rerun posts the same deliveries (a hub that kept its state answers them as duplicates).
 */
import { createHash } from 'node:crypto';
import type { EventType } from '../core/events/catalog.ts';
import type { Identity } from '../core/identity/identity.ts';
import type { Money } from '../core/money.ts';
import type { ConsentStatus } from '../core/profile/model.ts';
import type { UnsignedWebhook, VendorId } from '../scripts/support/vendor-webhooks.ts';
import { business, type Person, type PersonId } from './people.ts';

/** One canonical event a webhook should publish, and what it means for the person's profile. */
export interface ExpectedEvent {
  readonly person: PersonId;
  readonly type: EventType;
  readonly connector: VendorId;
  /** The vendor's event time (ISO, UTC); absent when the vendor sends none (Twilio: stamped on receipt). */
  readonly at?: string;
  readonly identities: readonly Identity[];
  /** Trait name (flattened: `address.city`) -> value. */
  readonly traits?: Readonly<Record<string, unknown>>;
  readonly consent?: {
    readonly channel: 'email' | 'sms';
    readonly status: ConsentStatus;
    readonly reason?: string;
  };
  readonly order?: { readonly orderId: string; readonly total: Money; readonly channel: 'online' | 'pos' };
  readonly refund?: { readonly orderId: string; readonly refundId: string; readonly amount: Money };
  readonly cart?: { readonly cartId: string; readonly total: Money; readonly completed: boolean };
  readonly loyalty?: {
    readonly accountId: string;
    readonly balance: number;
    readonly lifetimePoints?: number;
  };
}

/** One HTTP delivery of the journey. */
export interface JourneyStep {
  /** Steps of one phase are posted in order; the demo waits for the profile writer between phases. */
  readonly phase: number;
  /** What happened, in the business's words. */
  readonly story: string;
  readonly connector: VendorId;
  /** The vendor's topic or event name(s), for the progress line. */
  readonly topic: string;
  readonly webhook: UnsignedWebhook;
  readonly expected: readonly ExpectedEvent[];
}

export interface LineItem {
  readonly title: string;
  readonly sku: string;
  readonly productId: number;
  readonly variantId: number;
  /** Unit price in minor units. */
  readonly price: number;
  readonly quantity: number;
}

// ---------------------------------------------------------------------------------------------------
// Deterministic ids and vendor time formats

function digest(seed: string): Buffer {
  return createHash('sha256').update(`omnihub-demo:${seed}`).digest();
}

export function hexId(seed: string, length: number): string {
  return digest(seed).toString('hex').slice(0, length);
}

export function uuidOf(seed: string): string {
  const h = hexId(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `2025-04-22T14:30:00-05:00`: Shopify writes times in the shop's time zone. */
export function shopTime(at: Date, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [hours = 0, minutes = 0] = offset.slice(1).split(':').map(Number);
  const local = new Date(at.getTime() + sign * (hours * 60 + minutes) * 60_000);
  return `${local.toISOString().slice(0, 19)}${offset}`;
}

const decimal = (minor: number) => (minor / 100).toFixed(2);
const iso = (at: Date) => at.toISOString();
const email = (value: string): Identity => ({ type: 'email', value: value.trim().toLowerCase() });
const phone = (value: string): Identity => ({ type: 'phone', value });
const external = (system: string, value: string | number): Identity => ({
  type: 'external',
  system,
  value: String(value),
});

// ---------------------------------------------------------------------------------------------------
// Shopify

export type ShopifyStore = keyof typeof business.shopifyStores;

function shopifyWebhook(store: ShopifyStore, topic: string, seed: string, at: Date, body: unknown) {
  return {
    connector: 'shopify' as const,
    body: JSON.stringify(body),
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': business.shopifyStores[store].domain,
      'x-shopify-api-version': '2025-07',
      'x-shopify-webhook-id': uuidOf(`${seed}:webhook`),
      'x-shopify-event-id': uuidOf(`${seed}:event`),
      'x-shopify-triggered-at': `${iso(new Date(at.getTime() + 2000)).slice(0, 19)}.000000000Z`,
    },
  };
}

function shopifyLines(lines: readonly LineItem[]) {
  return lines.map((line, index) => ({
    id: 14_000_000_000_000 + line.variantId + index,
    product_id: line.productId,
    variant_id: line.variantId,
    sku: line.sku,
    title: line.title,
    name: line.title,
    quantity: line.quantity,
    price: decimal(line.price),
    requires_shipping: true,
    taxable: true,
    gift_card: false,
    vendor: business.name,
  }));
}

function customerAddress(person: Person) {
  const { address } = person;
  return {
    first_name: person.firstName,
    last_name: person.lastName,
    address1: address.line1,
    address2: address.line2 ?? null,
    city: address.city,
    province: address.province,
    province_code: address.provinceCode,
    zip: address.zip,
    country: address.country,
    country_code: address.countryCode,
    country_name: address.country,
    default: true,
  };
}

function addressTraits(person: Person): Record<string, unknown> {
  const { address } = person;
  return {
    'address.line1': address.line1,
    ...(address.line2 ? { 'address.line2': address.line2 } : {}),
    'address.city': address.city,
    'address.region': address.provinceCode,
    'address.postalCode': address.zip,
    'address.country': address.countryCode,
  };
}

/** customers/create or customers/update (API 2025-07: consent has its own topics). */
export function shopifyCustomer(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    topic: 'customers/create' | 'customers/update';
    createdAt: Date;
    at: Date;
    /** Whether the record holds the phone number yet. */
    withPhone: boolean;
    tags?: string;
  },
): JourneyStep {
  const { person, store, at } = options;
  const offset = business.shopifyStores[store].utcOffset;
  const address = { id: person.shopifyCustomerId + 1000, customer_id: person.shopifyCustomerId };
  const body = {
    id: person.shopifyCustomerId,
    email: person.email,
    created_at: shopTime(options.createdAt, offset),
    updated_at: shopTime(at, offset),
    first_name: person.firstName,
    last_name: person.lastName,
    state: 'enabled',
    note: null,
    verified_email: true,
    multipass_identifier: null,
    tax_exempt: false,
    phone: options.withPhone ? person.phone : null,
    tags: options.tags ?? '',
    currency: business.shopifyStores[store].currency,
    addresses: [{ ...address, ...customerAddress(person) }],
    default_address: { ...address, ...customerAddress(person) },
    tax_exemptions: [],
    admin_graphql_api_id: `gid://shopify/Customer/${person.shopifyCustomerId}`,
  };
  const identities = [
    email(person.email),
    ...(options.withPhone ? [phone(person.phone)] : []),
    external('shopify', person.shopifyCustomerId),
  ];
  return {
    phase,
    story,
    connector: 'shopify',
    topic: options.topic,
    webhook: shopifyWebhook(store, options.topic, `${options.topic}:${person.id}:${iso(at)}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'customer.upserted',
        connector: 'shopify',
        at: iso(at),
        identities,
        traits: {
          firstName: person.firstName,
          lastName: person.lastName,
          email: email(person.email).value,
          ...(options.withPhone ? { phone: person.phone } : {}),
          ...addressTraits(person),
          // Shopify sends "" for no tags, which the connector reads as an empty list.
          tags: (options.tags ?? '')
            .split(',')
            .map((tag) => tag.trim())
            .filter((tag) => tag !== ''),
        },
      },
    ],
  };
}

/** customers_email_marketing_consent/update or customers_marketing_consent/update (SMS). */
export function shopifyConsent(
  phase: number,
  story: string,
  options: { person: Person; store: ShopifyStore; channel: 'email' | 'sms'; at: Date },
): JourneyStep {
  const { person, store, channel, at } = options;
  const consent = {
    state: 'subscribed',
    opt_in_level: 'single_opt_in',
    consent_updated_at: shopTime(at, business.shopifyStores[store].utcOffset),
  };
  const topic =
    channel === 'email' ? 'customers_email_marketing_consent/update' : 'customers_marketing_consent/update';
  const body =
    channel === 'email'
      ? {
          customer_id: person.shopifyCustomerId,
          email_address: person.email,
          email_marketing_consent: consent,
        }
      : {
          id: person.shopifyCustomerId,
          phone: person.phone,
          sms_marketing_consent: { ...consent, consent_collected_from: 'SHOPIFY' },
        };
  return {
    phase,
    story,
    connector: 'shopify',
    topic,
    webhook: shopifyWebhook(store, topic, `${topic}:${person.id}:${iso(at)}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'consent.changed',
        connector: 'shopify',
        at: iso(at),
        identities: [
          channel === 'email' ? email(person.email) : phone(person.phone),
          external('shopify', person.shopifyCustomerId),
        ],
        consent: { channel, status: 'subscribed' },
      },
    ],
  };
}

/** checkouts/create or checkouts/update (the abandoned-checkout resource). */
export function shopifyCheckout(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    topic: 'checkouts/create' | 'checkouts/update';
    checkoutId: number;
    lines: readonly LineItem[];
    total: number;
    createdAt: Date;
    at: Date;
    completed: boolean;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset, domain } = business.shopifyStores[store];
  const token = hexId(`checkout:${options.checkoutId}`, 32);
  const body = {
    id: options.checkoutId,
    token,
    cart_token: hexId(`cart:${options.checkoutId}`, 32),
    email: person.email,
    phone: null,
    buyer_accepts_marketing: true,
    created_at: shopTime(options.createdAt, utcOffset),
    updated_at: shopTime(at, utcOffset),
    completed_at: options.completed ? shopTime(at, utcOffset) : null,
    currency,
    presentment_currency: currency,
    source_name: 'web',
    total_price: decimal(options.total),
    subtotal_price: decimal(options.lines.reduce((sum, line) => sum + line.price * line.quantity, 0)),
    abandoned_checkout_url: `https://${domain}/checkouts/ac/${token}/recover?key=${hexId(`key:${token}`, 16)}`,
    line_items: shopifyLines(options.lines),
    customer: {
      id: person.shopifyCustomerId,
      email: person.email,
      first_name: person.firstName,
      last_name: person.lastName,
      phone: person.phone,
      state: 'enabled',
      currency,
      admin_graphql_api_id: `gid://shopify/Customer/${person.shopifyCustomerId}`,
    },
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: options.topic,
    webhook: shopifyWebhook(
      store,
      options.topic,
      `${options.topic}:${options.checkoutId}:${iso(at)}`,
      at,
      body,
    ),
    expected: [
      {
        person: person.id,
        type: 'cart.updated',
        connector: 'shopify',
        at: iso(at),
        identities: [email(person.email), external('shopify', person.shopifyCustomerId), phone(person.phone)],
        cart: {
          cartId: String(options.checkoutId),
          total: { amount: options.total, currency },
          completed: options.completed,
        },
      },
    ],
  };
}

/** orders/create. */
export function shopifyOrder(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    orderId: number;
    orderNumber: number;
    lines: readonly LineItem[];
    tax: number;
    at: Date;
    checkoutId?: number;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset, domain } = business.shopifyStores[store];
  const subtotal = options.lines.reduce((sum, line) => sum + line.price * line.quantity, 0);
  const total = subtotal + options.tax;
  const body = {
    id: options.orderId,
    admin_graphql_api_id: `gid://shopify/Order/${options.orderId}`,
    name: `#${options.orderNumber}`,
    order_number: options.orderNumber,
    number: options.orderNumber - 1000,
    email: person.email,
    contact_email: person.email,
    phone: null,
    created_at: shopTime(at, utcOffset),
    processed_at: shopTime(at, utcOffset),
    updated_at: shopTime(new Date(at.getTime() + 60_000), utcOffset),
    currency,
    presentment_currency: currency,
    subtotal_price: decimal(subtotal),
    total_tax: decimal(options.tax),
    total_price: decimal(total),
    total_discounts: '0.00',
    financial_status: 'paid',
    fulfillment_status: null,
    source_name: 'web',
    checkout_id: options.checkoutId ?? null,
    cancel_reason: null,
    cancelled_at: null,
    buyer_accepts_marketing: true,
    order_status_url: `https://${domain}/orders/${hexId(`order:${options.orderId}`, 32)}/authenticate`,
    payment_gateway_names: ['shopify_payments'],
    test: false,
    customer: {
      id: person.shopifyCustomerId,
      email: person.email,
      first_name: person.firstName,
      last_name: person.lastName,
      phone: null,
      state: 'enabled',
      currency,
      admin_graphql_api_id: `gid://shopify/Customer/${person.shopifyCustomerId}`,
    },
    line_items: shopifyLines(options.lines),
    refunds: [],
    shipping_lines: [],
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: 'orders/create',
    webhook: shopifyWebhook(store, 'orders/create', `orders/create:${options.orderId}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'order.placed',
        connector: 'shopify',
        at: iso(at),
        identities: [email(person.email), external('shopify', person.shopifyCustomerId)],
        order: { orderId: String(options.orderId), total: { amount: total, currency }, channel: 'online' },
      },
    ],
  };
}

/** refunds/create: names no customer; the profile writer finds the person by the order id. */
export function shopifyRefund(
  phase: number,
  story: string,
  options: {
    person: Person;
    store: ShopifyStore;
    refundId: number;
    orderId: number;
    amount: number;
    note: string;
    at: Date;
  },
): JourneyStep {
  const { person, store, at } = options;
  const { currency, utcOffset } = business.shopifyStores[store];
  const money = { amount: decimal(options.amount), currency_code: currency };
  const body = {
    id: options.refundId,
    order_id: options.orderId,
    admin_graphql_api_id: `gid://shopify/Refund/${options.refundId}`,
    created_at: shopTime(at, utcOffset),
    processed_at: shopTime(at, utcOffset),
    note: options.note,
    restock: true,
    user_id: null,
    refund_line_items: [
      { id: options.refundId + 7, quantity: 1, restock_type: 'return', subtotal_set: { shop_money: money } },
    ],
    transactions: [
      {
        id: options.refundId + 11,
        order_id: options.orderId,
        kind: 'refund',
        gateway: 'shopify_payments',
        status: 'success',
        amount: decimal(options.amount),
        currency,
        created_at: shopTime(at, utcOffset),
        test: false,
      },
    ],
    order_adjustments: [],
  };
  return {
    phase,
    story,
    connector: 'shopify',
    topic: 'refunds/create',
    webhook: shopifyWebhook(store, 'refunds/create', `refunds/create:${options.refundId}`, at, body),
    expected: [
      {
        person: person.id,
        type: 'order.refunded',
        connector: 'shopify',
        at: iso(at),
        identities: [],
        refund: {
          orderId: String(options.orderId),
          refundId: String(options.refundId),
          amount: { amount: options.amount, currency },
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Square

function squareWebhook(
  type: string,
  eventId: string,
  at: Date,
  dataType: string,
  id: string,
  object: unknown,
) {
  return {
    connector: 'square' as const,
    body: JSON.stringify({
      merchant_id: business.squareMerchantId,
      type,
      event_id: eventId,
      created_at: iso(new Date(at.getTime() + 1000)),
      data: { type: dataType, id, object },
    }),
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Square Connect v2',
      'square-environment': 'Production',
      'square-initial-delivery-timestamp': iso(new Date(at.getTime() + 3000)),
    },
  };
}

/** customer.created: the cashier enrolled the buyer in loyalty with a phone number only. */
export function squareCustomerCreated(
  phase: number,
  story: string,
  options: { person: Person; at: Date; withEmail: boolean; withName: boolean },
): JourneyStep {
  const { person, at } = options;
  const id = person.squareCustomerId ?? '';
  const customerEmail = person.otherEmail ?? person.email;
  const customer = {
    id,
    created_at: iso(at),
    updated_at: iso(at),
    ...(options.withName ? { given_name: person.firstName, family_name: person.lastName } : {}),
    ...(options.withEmail ? { email_address: customerEmail } : {}),
    phone_number: person.phone,
    preferences: { email_unsubscribed: false },
    creation_source: options.withEmail ? 'DIRECTORY' : 'LOYALTY',
    version: 0,
  };
  return {
    phase,
    story,
    connector: 'square',
    topic: 'customer.created',
    webhook: squareWebhook('customer.created', uuidOf(`square:customer:${id}`), at, 'customer', id, {
      customer,
    }),
    expected: [
      {
        person: person.id,
        type: 'customer.upserted',
        connector: 'square',
        at: iso(at),
        identities: [
          ...(options.withEmail ? [email(customerEmail)] : []),
          phone(person.phone),
          external('square', id),
        ],
        traits: {
          ...(options.withName ? { firstName: person.firstName, lastName: person.lastName } : {}),
          ...(options.withEmail ? { email: email(customerEmail).value } : {}),
          phone: person.phone,
        },
      },
    ],
  };
}

/** payment.created with status COMPLETED at the store's register (no line items, no phone). */
export function squarePayment(
  phase: number,
  story: string,
  options: { person: Person; paymentId: string; orderId: string; amount: number; at: Date },
): JourneyStep {
  const { person, at, paymentId } = options;
  const money = { amount: options.amount, currency: 'USD' };
  const payment = {
    id: paymentId,
    created_at: iso(new Date(at.getTime() - 4000)),
    updated_at: iso(at),
    amount_money: money,
    total_money: money,
    approved_money: money,
    status: 'COMPLETED',
    source_type: 'CARD',
    card_details: {
      status: 'CAPTURED',
      card: { card_brand: 'VISA', last_4: '1111' },
      entry_method: 'CONTACTLESS',
    },
    location_id: business.squareLocationId,
    order_id: options.orderId,
    customer_id: person.squareCustomerId,
    receipt_number: paymentId.slice(0, 4),
    application_details: { square_product: 'SQUARE_POS', application_id: 'sq0idp-NorthwindPOS' },
    version_token: hexId(`version:${paymentId}`, 40),
  };
  return {
    phase,
    story,
    connector: 'square',
    topic: 'payment.created',
    webhook: squareWebhook(
      'payment.created',
      uuidOf(`square:payment:${paymentId}`),
      at,
      'payment',
      paymentId,
      {
        payment,
      },
    ),
    expected: [
      {
        person: person.id,
        type: 'order.placed',
        connector: 'square',
        at: iso(at),
        identities: [external('square', person.squareCustomerId ?? '')],
        order: { orderId: options.orderId, total: money, channel: 'pos' },
      },
    ],
  };
}

/** loyalty.account.updated: points for the purchase, on the account mapped to the phone number. */
export function squareLoyalty(
  phase: number,
  story: string,
  options: { person: Person; accountId: string; balance: number; at: Date },
): JourneyStep {
  const { person, at } = options;
  const account = {
    id: options.accountId,
    program_id: uuidOf('square:loyalty-program'),
    balance: options.balance,
    lifetime_points: options.balance,
    customer_id: person.squareCustomerId,
    mapping: { id: uuidOf(`mapping:${options.accountId}`), created_at: iso(at), phone_number: person.phone },
    created_at: iso(at),
    updated_at: iso(at),
  };
  return {
    phase,
    story,
    connector: 'square',
    topic: 'loyalty.account.updated',
    webhook: squareWebhook(
      'loyalty.account.updated',
      uuidOf(`square:loyalty:${options.accountId}:${iso(at)}`),
      at,
      'loyalty_account',
      options.accountId,
      { loyalty_account: account },
    ),
    expected: [
      {
        person: person.id,
        type: 'loyalty.updated',
        connector: 'square',
        at: iso(at),
        identities: [phone(person.phone), external('square', person.squareCustomerId ?? '')],
        loyalty: { accountId: options.accountId, balance: options.balance, lifetimePoints: options.balance },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Twilio (form-encoded; Twilio sends no event time, so the hub stamps these on receipt)

const TWILIO_ACCOUNT = `AC${hexId('twilio:account', 32)}`;
const TWILIO_SERVICE = `MG${hexId('twilio:service', 32)}`;

function twilioWebhook(fields: Record<string, string>) {
  return {
    connector: 'twilio' as const,
    body: new URLSearchParams(fields).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1',
      'x-home-region': 'us1',
    },
  };
}

const STATUS_EVENT = { sent: 'message.sent', delivered: 'message.delivered' } as const;

/** A status callback of a message the business sent (the person is `To`). */
export function twilioStatus(
  phase: number,
  story: string,
  options: { person: Person; message: string; status: 'sent' | 'delivered'; from: string },
): JourneyStep {
  const { person, status } = options;
  const sid = `SM${hexId(`twilio:${options.message}`, 32)}`;
  return {
    phase,
    story,
    connector: 'twilio',
    topic: `status ${status}`,
    webhook: twilioWebhook({
      SmsSid: sid,
      SmsStatus: status,
      MessageStatus: status,
      To: person.phone,
      MessagingServiceSid: TWILIO_SERVICE,
      MessageSid: sid,
      AccountSid: TWILIO_ACCOUNT,
      From: options.from,
      ApiVersion: '2010-04-01',
    }),
    expected: [
      {
        person: person.id,
        type: STATUS_EVENT[status],
        connector: 'twilio',
        identities: [phone(person.phone)],
      },
    ],
  };
}

/** An incoming SMS from the person; `STOP` is an opt-out (Advanced Opt-Out sends OptOutType). */
export function twilioIncoming(
  phase: number,
  story: string,
  options: { person: Person; message: string; body: string; to: string },
): JourneyStep {
  const { person } = options;
  const sid = `SM${hexId(`twilio:${options.message}`, 32)}`;
  const stop = options.body.trim().toUpperCase() === 'STOP';
  return {
    phase,
    story,
    connector: 'twilio',
    topic: stop ? 'incoming STOP' : 'incoming message',
    webhook: twilioWebhook({
      ToCountry: options.to.startsWith('+1416') ? 'CA' : 'US',
      SmsMessageSid: sid,
      NumMedia: '0',
      SmsSid: sid,
      SmsStatus: 'received',
      Body: options.body,
      To: options.to,
      MessagingServiceSid: TWILIO_SERVICE,
      NumSegments: '1',
      MessageSid: sid,
      AccountSid: TWILIO_ACCOUNT,
      From: person.phone,
      ApiVersion: '2010-04-01',
      ...(stop ? { OptOutType: 'STOP' } : {}),
    }),
    expected: [
      stop
        ? {
            person: person.id,
            type: 'consent.changed',
            connector: 'twilio',
            identities: [phone(person.phone)],
            consent: { channel: 'sms', status: 'unsubscribed', reason: 'STOP' },
          }
        : {
            person: person.id,
            type: 'message.received',
            connector: 'twilio',
            identities: [phone(person.phone)],
          },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// SendGrid (a batch of events, possibly about several people)

export interface SendGridEvent {
  readonly person: Person;
  readonly event: 'delivered' | 'open' | 'unsubscribe';
  readonly campaign: string;
  readonly at: Date;
}

const SENDGRID_EVENT = {
  delivered: 'message.delivered',
  open: 'message.opened',
  unsubscribe: 'consent.changed',
} as const;

export function sendgridBatch(phase: number, story: string, events: readonly SendGridEvent[]): JourneyStep {
  const body = events.map(({ person, event, campaign, at }) => {
    const messageId = `${hexId(`sendgrid:${campaign}:${person.id}`, 22)}.filterdrecv-5bd4f5c9c6-x2k7n-1-${hexId(`sg:${campaign}`, 8).toUpperCase()}-4.0`;
    const common = {
      email: person.email,
      timestamp: Math.floor(at.getTime() / 1000),
      event,
      sg_event_id: digest(`sendgrid:${campaign}:${person.id}:${event}`).subarray(0, 16).toString('base64url'),
      sg_message_id: messageId,
      category: [campaign],
    };
    if (event === 'delivered') {
      return { ...common, 'smtp-id': `<${hexId(messageId, 16)}@ismtpd-101>`, response: '250 2.0.0 OK' };
    }
    return {
      ...common,
      useragent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)',
      ip: '203.0.113.24',
    };
  });
  return {
    phase,
    story,
    connector: 'sendgrid',
    topic: [...new Set(events.map((event) => event.event))].join(', '),
    webhook: {
      connector: 'sendgrid',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'user-agent': 'SendGrid Event API' },
    },
    expected: events.map(({ person, event, at }) => ({
      person: person.id,
      type: SENDGRID_EVENT[event],
      connector: 'sendgrid' as const,
      at: iso(at),
      identities: [email(person.email)],
      ...(event === 'unsubscribe'
        ? { consent: { channel: 'email' as const, status: 'unsubscribed' as const, reason: 'unsubscribe' } }
        : {}),
    })),
  };
}

// ---------------------------------------------------------------------------------------------------
// HubSpot (a batch of contact events; one subscription per subscribed property)

export type HubSpotElement =
  | { readonly kind: 'creation'; readonly at: Date }
  | {
      readonly kind: 'property';
      readonly name: 'email' | 'firstname' | 'lastname' | 'city' | 'company';
      readonly value: string;
      readonly at: Date;
    };

const HUBSPOT_SUBSCRIPTIONS = {
  creation: 4400101,
  email: 4400102,
  firstname: 4400103,
  lastname: 4400104,
  city: 4400105,
  company: 4400106,
} as const;

const HUBSPOT_TRAIT = {
  email: 'email',
  firstname: 'firstName',
  lastname: 'lastName',
  city: 'address.city',
  company: 'company',
} as const;

export function hubspotBatch(
  phase: number,
  story: string,
  options: { person: Person; elements: readonly HubSpotElement[] },
): JourneyStep {
  const { person } = options;
  const contactId = person.hubspotContactId ?? 0;
  const body = options.elements.map((element, index) => {
    const common = {
      eventId: 1_928_374_650 + contactId + index,
      subscriptionId: HUBSPOT_SUBSCRIPTIONS[element.kind === 'creation' ? 'creation' : element.name],
      portalId: business.hubspotPortalId,
      appId: business.hubspotAppId,
      occurredAt: element.at.getTime(),
      attemptNumber: 0,
      objectId: contactId,
    };
    return element.kind === 'creation'
      ? { ...common, subscriptionType: 'contact.creation', changeFlag: 'NEW', changeSource: 'FORM' }
      : {
          ...common,
          subscriptionType: 'contact.propertyChange',
          propertyName: element.name,
          propertyValue: element.value,
          changeSource: 'FORM',
          sourceId: 'forms:spring-newsletter',
        };
  });
  return {
    phase,
    story,
    connector: 'hubspot',
    topic: [...new Set(body.map((element) => element.subscriptionType))].join(', '),
    webhook: {
      connector: 'hubspot',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - (namespace: webhooks-nio-http-client)',
        'x-hubspot-timeout-millis': '10000',
      },
    },
    expected: options.elements.map((element) => ({
      person: person.id,
      type: 'customer.upserted' as const,
      connector: 'hubspot' as const,
      at: iso(element.at),
      identities: [
        ...(element.kind === 'property' && element.name === 'email' ? [email(element.value)] : []),
        external('hubspot', contactId),
      ],
      traits:
        element.kind === 'creation'
          ? {}
          : {
              [HUBSPOT_TRAIT[element.name]]:
                element.name === 'email' ? email(element.value).value : element.value.trim(),
            },
    })),
  };
}
