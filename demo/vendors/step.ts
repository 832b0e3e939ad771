/**
 * What every vendor builder of the demo (`demo/vendors/*.ts`) produces: a journey step, the webhook in
 * the vendor's own wire format (the shapes of `connectors/<id>/fixtures/*.json`) together with the
 * canonical events it is expected to become.
 *
 * A builder takes one set of values and produces both the payload and its expected events, so the
 * expectations (`truth.ts`) cannot drift from what is posted. Vendor ids are derived from a seed so a
 * rerun posts the same deliveries (a hub that kept its state answers them as duplicates).
 */
import { createHash } from 'node:crypto';
import type { EventType } from '../../core/events/catalog.ts';
import type { Identity } from '../../core/identity/identity.ts';
import type { Money } from '../../core/money.ts';
import type { ConsentStatus } from '../../core/profile/model.ts';
import type { PersonId } from '../people.ts';
import type { UnsignedWebhook } from '../vendor-webhooks.ts';

/** The connectors the journey posts to (their ids in the registry, `connectors/index.ts`). */
export type VendorId = 'shopify' | 'hubspot' | 'square' | 'sendgrid' | 'twilio';

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

export function digest(seed: string): Buffer {
  return createHash('sha256').update(`omnihub-demo:${seed}`).digest();
}

export function hexId(seed: string, length: number): string {
  return digest(seed).toString('hex').slice(0, length);
}

export function uuidOf(seed: string): string {
  const h = hexId(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The ISO form (UTC) in which expected events carry times. */
export const iso = (at: Date) => at.toISOString();
// Identities as the connectors emit them (emails trimmed and lower-cased).
export const email = (value: string): Identity => ({ type: 'email', value: value.trim().toLowerCase() });
export const phone = (value: string): Identity => ({ type: 'phone', value });
export const external = (system: string, value: string | number): Identity => ({
  type: 'external',
  system,
  value: String(value),
});
