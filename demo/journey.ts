/**
 * The demo's omnichannel journey over the last six days, as data: what each system tells the hub,
 * in the order it tells it.
 *
 * - Ava Reyes signs up at the US Shopify store, starts a checkout and leaves. An SMS reminder goes
 *   out through Twilio and she replies. Two days later she buys at the Chicago store (Square), where
 *   the cashier enrols her in loyalty with only her phone number. She opens a SendGrid campaign
 *   email, then unsubscribes. HubSpot, connected last, backfills her contact from an older form
 *   fill: it first arrives as a separate profile and is merged when its email property arrives, and
 *   its older city ("Evanston") does not overwrite Shopify's newer one ("Chicago").
 * - Noah Kim buys online as noah.kim@example.net and in store as nkim@example.com with his phone;
 *   the two profiles merge when he adds the phone to his online account.
 * - Mia Chen buys at the Canadian store in CAD, returns an item (a CAD refund), and replies STOP to
 *   a shipping SMS.
 *
 * Event times are relative to `now`, so the journey always happened "this week". Arrival order
 * differs from event time on purpose (HubSpot's backfill, Twilio's receipt-time stamps).
 */
import { business, people } from './people.ts';
import { hubspotBatch } from './vendors/hubspot.ts';
import { sendgridBatch } from './vendors/sendgrid.ts';
import { shopifyConsent, shopifyCustomer } from './vendors/shopify.ts';
import { shopifyCheckout, shopifyOrder, shopifyRefund } from './vendors/shopify-orders.ts';
import { squareCustomerCreated, squareLoyalty, squarePayment } from './vendors/square.ts';
import { type JourneyStep, type LineItem, uuidOf } from './vendors/step.ts';
import { twilioIncoming, twilioStatus } from './vendors/twilio.ts';

export type { ExpectedEvent, JourneyStep } from './vendors/step.ts';

export interface Journey {
  /** The moment the journey is told relative to (its events lie 1 to 6 days before it). */
  readonly now: string;
  readonly steps: readonly JourneyStep[];
}

const products = {
  jacket: {
    title: 'Alder Trail Jacket',
    sku: 'NW-ATJ-M-BLU',
    productId: 8012345670001,
    variantId: 45012345670011,
    price: 16800,
    quantity: 1,
  },
  beanie: {
    title: 'Merino Beanie',
    sku: 'NW-MB-CHR',
    productId: 8012345670002,
    variantId: 45012345670021,
    price: 3200,
    quantity: 1,
  },
  bottle: {
    title: 'Summit Water Bottle 750 ml',
    sku: 'NW-SWB-750',
    productId: 8012345670003,
    variantId: 45012345670031,
    price: 2900,
    quantity: 1,
  },
  socks: {
    title: 'Trail Socks (3-pack)',
    sku: 'NW-TS3-M',
    productId: 8012345670004,
    variantId: 45012345670041,
    price: 2400,
    quantity: 1,
  },
} satisfies Record<string, LineItem>;

/** The journey told relative to `now` (default: the current time). */
export function buildJourney(now: Date = new Date()): Journey {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  /** `days` before today, at `hh:mm` UTC. */
  const at = (days: number, hh: number, mm: number) =>
    new Date(midnight - days * 86_400_000 + (hh * 60 + mm) * 60_000);
  const { ava, noah, mia } = people;
  const us = business.twilioNumbers.us;
  const ca = business.twilioNumbers.ca;

  const steps: JourneyStep[] = [
    // Phase 1: the online stores.
    shopifyCustomer(1, 'Ava creates an account at the US store', {
      person: ava,
      store: 'us',
      topic: 'customers/create',
      createdAt: at(5, 14, 12),
      at: at(5, 14, 12),
      withPhone: true,
      tags: 'newsletter',
    }),
    shopifyConsent(1, 'Ava opts in to marketing email', {
      person: ava,
      store: 'us',
      channel: 'email',
      at: at(5, 14, 13),
    }),
    shopifyConsent(1, 'Ava opts in to marketing SMS', {
      person: ava,
      store: 'us',
      channel: 'sms',
      at: at(5, 14, 13),
    }),
    shopifyCheckout(1, 'Ava starts a checkout for a jacket and leaves', {
      person: ava,
      store: 'us',
      topic: 'checkouts/create',
      checkoutId: 36170148774001,
      lines: [products.jacket],
      total: 16800,
      createdAt: at(5, 14, 20),
      at: at(5, 14, 20),
      completed: false,
    }),
    shopifyCustomer(1, 'Noah creates an account at the US store (no phone)', {
      person: noah,
      store: 'us',
      topic: 'customers/create',
      createdAt: at(4, 17, 58),
      at: at(4, 17, 58),
      withPhone: false,
    }),
    shopifyOrder(1, 'Noah orders a jacket and a beanie online', {
      person: noah,
      store: 'us',
      orderId: 5630194720842,
      orderNumber: 1042,
      lines: [products.jacket, products.beanie],
      tax: 1200,
      at: at(4, 18, 4),
    }),
    shopifyCustomer(1, 'Mia creates an account at the Canadian store', {
      person: mia,
      store: 'ca',
      topic: 'customers/create',
      createdAt: at(3, 13, 0),
      at: at(3, 13, 0),
      withPhone: true,
    }),
    shopifyConsent(1, 'Mia opts in to marketing email', {
      person: mia,
      store: 'ca',
      channel: 'email',
      at: at(3, 13, 1),
    }),
    shopifyConsent(1, 'Mia opts in to shipping and marketing SMS', {
      person: mia,
      store: 'ca',
      channel: 'sms',
      at: at(3, 13, 1),
    }),
    shopifyCheckout(1, 'Mia starts a checkout', {
      person: mia,
      store: 'ca',
      topic: 'checkouts/create',
      checkoutId: 36170148774003,
      lines: [products.bottle, products.socks],
      total: 5989,
      createdAt: at(3, 13, 5),
      at: at(3, 13, 5),
      completed: false,
    }),
    shopifyCheckout(1, 'Mia completes the checkout', {
      person: mia,
      store: 'ca',
      topic: 'checkouts/update',
      checkoutId: 36170148774003,
      lines: [products.bottle, products.socks],
      total: 5989,
      createdAt: at(3, 13, 5),
      at: at(3, 13, 9),
      completed: true,
    }),
    shopifyOrder(1, 'Mia orders a bottle and socks (CAD, 13% HST)', {
      person: mia,
      store: 'ca',
      orderId: 5630194721007,
      orderNumber: 1007,
      lines: [products.bottle, products.socks],
      tax: 689,
      at: at(3, 13, 9),
      checkoutId: 36170148774003,
    }),

    // Phase 2: SMS and the Chicago store.
    twilioStatus(2, 'The cart reminder SMS to Ava is sent', {
      person: ava,
      message: 'ava-cart-reminder',
      status: 'sent',
      from: us,
    }),
    twilioStatus(2, 'and delivered', {
      person: ava,
      message: 'ava-cart-reminder',
      status: 'delivered',
      from: us,
    }),
    twilioIncoming(2, 'Ava replies', {
      person: ava,
      message: 'ava-reply',
      body: 'Do you still have the Alder jacket in M? I can pick it up in store',
      to: us,
    }),
    squareCustomerCreated(2, 'Ava joins loyalty at the Chicago register with only her phone', {
      person: ava,
      at: at(3, 22, 40),
      withEmail: false,
      withName: false,
    }),
    squarePayment(2, 'Ava pays $86.60 at the register', {
      person: ava,
      paymentId: 'bP9mQ2xK7vT4nR8sW1yZ3cF6hJ0dL',
      orderId: 'vN4kT7pQ2mX9rB5sY8wC1zF6hJ3dG',
      amount: 8660,
      at: at(3, 22, 41),
    }),
    squareLoyalty(2, 'Ava earns 86 points', {
      person: ava,
      accountId: uuidOf('square:loyalty:ava'),
      balance: 86,
      at: at(3, 22, 42),
    }),
    twilioStatus(2, 'Mia’s shipping SMS is sent', {
      person: mia,
      message: 'mia-shipped',
      status: 'sent',
      from: ca,
    }),
    twilioStatus(2, 'and delivered', { person: mia, message: 'mia-shipped', status: 'delivered', from: ca }),
    squareCustomerCreated(2, 'Noah is added at the Chicago register with his work email and phone', {
      person: noah,
      at: at(3, 18, 30),
      withEmail: true,
      withName: true,
    }),
    squarePayment(2, 'Noah pays $45.99 at the register', {
      person: noah,
      paymentId: 'gH2jK5lM8nP1qR4sT7uV0wX3yZ6aB',
      orderId: 'cD9eF2gH5iJ8kL1mN4oP7qR0sT3uV',
      amount: 4599,
      at: at(3, 18, 31),
    }),

    // Phase 3: campaign email, and the link between Noah's two profiles.
    sendgridBatch(3, 'The spring campaign is delivered and opened', [
      { person: ava, event: 'delivered', campaign: 'spring-sale', at: at(2, 15, 0) },
      { person: mia, event: 'delivered', campaign: 'spring-sale', at: at(2, 15, 0) },
      { person: ava, event: 'open', campaign: 'spring-sale', at: at(2, 18, 12) },
      { person: mia, event: 'open', campaign: 'spring-sale', at: at(2, 20, 45) },
    ]),
    shopifyCustomer(3, 'Noah adds his phone to his online account: his two profiles merge', {
      person: noah,
      store: 'us',
      topic: 'customers/update',
      createdAt: at(4, 17, 58),
      at: at(2, 1, 15),
      withPhone: true,
    }),

    // Phase 4: opt-outs, a refund, and HubSpot's late backfill.
    shopifyRefund(4, 'Mia returns the socks: CA$27.12 refunded', {
      person: mia,
      store: 'ca',
      refundId: 1029384756007,
      orderId: 5630194721007,
      amount: 2712,
      note: 'Wrong size',
      at: at(1, 14, 30),
    }),
    sendgridBatch(4, 'Ava unsubscribes from marketing email', [
      { person: ava, event: 'unsubscribe', campaign: 'spring-sale', at: at(1, 13, 31) },
    ]),
    twilioIncoming(4, 'Mia replies STOP', { person: mia, message: 'mia-stop', body: 'STOP', to: ca }),
    hubspotBatch(4, 'HubSpot backfills Ava’s contact from an older form fill', {
      person: ava,
      elements: [
        { kind: 'creation', at: at(6, 16, 0) },
        { kind: 'property', name: 'email', value: 'ava.reyes@example.com', at: at(6, 16, 0) },
        { kind: 'property', name: 'firstname', value: 'Ava', at: at(6, 16, 0) },
        { kind: 'property', name: 'lastname', value: 'Reyes', at: at(6, 16, 0) },
        { kind: 'property', name: 'city', value: 'Evanston', at: at(6, 16, 0) },
        { kind: 'property', name: 'company', value: 'Lakeshore Design Studio', at: at(6, 16, 1) },
      ],
    }),
  ];
  return { now: now.toISOString(), steps };
}
