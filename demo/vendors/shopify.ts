/**
 * The demo's Shopify webhooks: the envelope every topic shares (headers as Shopify sends them, API
 * version 2025-07), customers and marketing consent. Checkouts, orders and refunds are in
 * `shopify-orders.ts`.
 */
import { business, type Person } from '../people.ts';
import { email, external, iso, type JourneyStep, phone, uuidOf } from './step.ts';

export type ShopifyStore = keyof typeof business.shopifyStores;

/** `2025-04-22T14:30:00-05:00`: Shopify writes times in the shop's time zone. */
export function shopTime(at: Date, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1;
  const [hours = 0, minutes = 0] = offset.slice(1).split(':').map(Number);
  const local = new Date(at.getTime() + sign * (hours * 60 + minutes) * 60_000);
  return `${local.toISOString().slice(0, 19)}${offset}`;
}

/** Prices as Shopify writes them: a decimal string of the major unit. */
export const decimal = (minor: number) => (minor / 100).toFixed(2);

/** A delivery of `topic` from `store`; webhook and event ids derive from `seed`. */
export function shopifyWebhook(store: ShopifyStore, topic: string, seed: string, at: Date, body: unknown) {
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
