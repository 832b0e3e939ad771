/**
 * A small omnichannel journey with a known truth, posted through the local hub as signed vendor
 * webhooks: the edge cases the demo does not have (test/analytics/journey.test.ts):
 *
 * | person | first seen             | orders                                  | email consent             |
 * |--------|------------------------|-----------------------------------------|---------------------------|
 * | Ada    | Square customer        | POS 23.00 + online 199.00 (checkout A)  | subscribed (Shopify)      |
 * | Bob    | Shopify customer       | online 50.00                            | subscribed (Shopify)      |
 * |        | + Twilio STOP (phone)  | the order names email and phone: merge  | sms unsubscribed (Twilio) |
 * |        |                        | checkout B abandoned                    |                           |
 * | Cleo   | Shopify customer       | online 75.00 (checkout C)               | unsubscribed (SendGrid)   |
 * | Dan    | Square customer        | POS 40.00                               | unknown                   |
 * | Eve    | SendGrid bounce        | none                                    | undeliverable             |
 */
import type { UnsignedWebhook } from '../../demo/vendor-webhooks.ts';

let sequence = 0;
const next = () => String(++sequence).padStart(4, '0');

function shopify(topic: string, body: Record<string, unknown>): UnsignedWebhook {
  const n = next();
  return {
    connector: 'shopify',
    body: JSON.stringify(body),
    headers: {
      'X-Shopify-Topic': topic,
      'X-Shopify-Shop-Domain': 'omnihub-demo.myshopify.com',
      'X-Shopify-API-Version': '2025-04',
      'X-Shopify-Webhook-Id': `b54557e4-8a5f-4bf7-9d70-bcd0430c${n}`,
      'X-Shopify-Event-Id': `3f0c6a57-1d8e-4b5a-9c2e-7a41d0b9${n}`,
      'X-Shopify-Triggered-At': '2025-05-01T00:00:00.000Z',
    },
  };
}

function shopifyCustomer(id: number, email: string, first: string, at: string, consent: string) {
  return shopify('customers/create', {
    id,
    email,
    created_at: at,
    updated_at: at,
    first_name: first,
    last_name: 'Example',
    state: 'enabled',
    phone: null,
    currency: 'USD',
    tags: '',
    addresses: [],
    email_marketing_consent: { state: consent, opt_in_level: 'single_opt_in', consent_updated_at: at },
  });
}

function shopifyCheckout(
  id: number,
  customer: { id: number; email: string },
  at: string,
  total: string,
  completedAt: string | null,
) {
  return shopify(completedAt ? 'checkouts/update' : 'checkouts/create', {
    id,
    token: `token${id}`,
    email: customer.email,
    created_at: at,
    updated_at: completedAt ?? at,
    completed_at: completedAt,
    currency: 'USD',
    line_items: [{ quantity: 1, sku: 'SKU-1', title: 'Widget', price: total, product_id: 632910392 }],
    total_price: total,
    subtotal_price: total,
    abandoned_checkout_url: `https://omnihub-demo.myshopify.com/checkouts/${id}/recover`,
    customer: { id: customer.id, email: customer.email },
  });
}

function shopifyOrder(
  id: number,
  customer: { id: number; email: string; phone?: string },
  at: string,
  total: string,
  checkoutId: number,
) {
  return shopify('orders/create', {
    id,
    name: `#${id % 10000}`,
    email: customer.email,
    phone: customer.phone ?? null,
    created_at: at,
    processed_at: at,
    updated_at: at,
    currency: 'USD',
    financial_status: 'paid',
    source_name: 'web',
    checkout_id: checkoutId,
    total_price: total,
    subtotal_price: total,
    total_tax: '0.00',
    line_items: [
      { id: id + 1, quantity: 1, sku: 'SKU-1', title: 'Widget', price: total, product_id: 632910392 },
    ],
    customer: { id: customer.id, email: customer.email, phone: customer.phone ?? null },
  });
}

function square(
  type: string,
  eventId: string,
  createdAt: string,
  data: Record<string, unknown>,
): UnsignedWebhook {
  return {
    connector: 'square',
    body: JSON.stringify({
      merchant_id: 'ML82H4QPKMGXY',
      type,
      event_id: eventId,
      created_at: createdAt,
      data,
    }),
  };
}

function squareCustomer(id: string, email: string, phone: string, first: string, at: string) {
  return square('customer.created', `c0000000-0000-4000-8000-${id.padStart(12, '0')}`, at, {
    type: 'customer',
    id,
    object: {
      customer: {
        id,
        created_at: at,
        updated_at: at,
        given_name: first,
        family_name: 'Example',
        email_address: email,
        phone_number: phone,
        preferences: { email_unsubscribed: false },
        creation_source: 'THIRD_PARTY',
        version: 1,
      },
    },
  });
}

function squarePayment(
  paymentId: string,
  orderId: string,
  customerId: string,
  email: string,
  at: string,
  cents: number,
) {
  return square('payment.updated', `p0000000-0000-4000-8000-${paymentId.slice(-12).padStart(12, '0')}`, at, {
    type: 'payment',
    id: paymentId,
    object: {
      payment: {
        id: paymentId,
        created_at: at,
        updated_at: at,
        amount_money: { amount: cents, currency: 'USD' },
        total_money: { amount: cents, currency: 'USD' },
        approved_money: { amount: cents, currency: 'USD' },
        status: 'COMPLETED',
        source_type: 'CARD',
        location_id: 'L88917AVBK2S5',
        order_id: orderId,
        customer_id: customerId,
        buyer_email_address: email,
        receipt_number: paymentId.slice(0, 4),
        application_details: { square_product: 'SQUARE_POS' },
        version_token: `v${paymentId}`,
      },
    },
  });
}

function sendgrid(event: Record<string, unknown>): UnsignedWebhook {
  return { connector: 'sendgrid', body: JSON.stringify([event]) };
}

const ada = { id: 7001, email: 'ada@example.com', phone: '+14155550101' };
const bob = { id: 7002, email: 'bob@example.com', phone: '+14155550102' };
const cleo = { id: 7003, email: 'cleo@example.com' };

/** In order: each delivery is posted and drained before the next, as a vendor would send them. */
export const journey: readonly UnsignedWebhook[] = [
  // Ada: in store first, then online.
  squareCustomer('ADA0000000001', ada.email, ada.phone, 'Ada', '2025-03-01T10:00:00Z'),
  squarePayment(
    'PAYADA000000000001',
    'ORDADA0000000001',
    'ADA0000000001',
    ada.email,
    '2025-03-01T10:05:00.000Z',
    2300,
  ),
  shopifyCustomer(ada.id, ada.email, 'Ada', '2025-03-05T09:00:00Z', 'subscribed'),
  shopifyCheckout(9001, ada, '2025-03-05T09:10:00Z', '199.00', null),
  shopifyOrder(8001, ada, '2025-03-05T09:15:00Z', '199.00', 9001),
  shopifyCheckout(9001, ada, '2025-03-05T09:10:00Z', '199.00', '2025-03-05T09:15:00Z'),
  // Bob: a Shopify customer by email; a STOP from his phone makes a second profile; his order names both.
  shopifyCustomer(bob.id, bob.email, 'Bob', '2025-03-02T12:00:00Z', 'subscribed'),
  {
    connector: 'twilio',
    body: new URLSearchParams({
      MessageSid: 'SM00000000000000000000000000000b0b',
      SmsSid: 'SM00000000000000000000000000000b0b',
      AccountSid: 'AC0123456789abcdef0123456789abcdef',
      MessagingServiceSid: 'MG89abcdef0123456789abcdef01234567',
      From: bob.phone,
      To: '+14155550199',
      Body: 'STOP',
      NumMedia: '0',
      NumSegments: '1',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    }).toString(),
  },
  shopifyOrder(8002, bob, '2025-03-06T15:00:00Z', '50.00', 9002),
  shopifyCheckout(9003, bob, '2025-03-07T15:00:00Z', '120.00', null),
  // Cleo: online only; unsubscribes from a SendGrid newsletter afterwards.
  shopifyCustomer(cleo.id, cleo.email, 'Cleo', '2025-03-03T08:00:00Z', 'subscribed'),
  shopifyCheckout(9004, cleo, '2025-03-08T08:00:00Z', '75.00', null),
  shopifyOrder(8004, cleo, '2025-03-08T08:05:00Z', '75.00', 9004),
  shopifyCheckout(9004, cleo, '2025-03-08T08:00:00Z', '75.00', '2025-03-08T08:05:00Z'),
  sendgrid({
    email: cleo.email,
    timestamp: 1741600000, // 2025-03-10T09:46:40Z
    event: 'unsubscribe',
    category: ['newsletter'],
    sg_event_id: 'Y2xlby11bnN1YnNjcmliZQ',
    sg_message_id: 'cleo0001.filter0001.16648.5515E0B88.0',
  }),
  // Dan: in store only.
  squareCustomer('DAN0000000004', 'dan@example.com', '+14155550104', 'Dan', '2025-03-04T16:00:00Z'),
  squarePayment(
    'PAYDAN000000000004',
    'ORDDAN0000000004',
    'DAN0000000004',
    'dan@example.com',
    '2025-03-04T16:10:00.000Z',
    4000,
  ),
  // Eve: only ever seen as a hard bounce.
  sendgrid({
    email: 'eve@example.com',
    timestamp: 1741000000, // 2025-03-03T11:06:40Z
    event: 'bounce',
    type: 'bounce',
    reason: '550 5.1.1 The email account that you tried to reach does not exist.',
    status: '5.1.1',
    sg_event_id: 'ZXZlLWJvdW5jZQ',
    sg_message_id: 'eve0001.filter0001.16648.5515E0B88.0',
  }),
];
