/** The demo's Square webhooks: the envelope of the Webhooks API v2, customers, payments and loyalty. */
import { business, type Person } from '../people.ts';
import { email, external, hexId, iso, type JourneyStep, phone, uuidOf } from './step.ts';

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
