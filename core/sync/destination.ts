/**
 * The outbound half of a connector: how a vendor system receives the unified profile.
 *
 * A destination is data (secrets, base URL, documented rate limit, fields it can take) plus one
 * `deliver` function that maps a {@link SyncRecord} to the vendor's API calls through a
 * {@link VendorClient}. Everything generic (which events, field ownership, consent, rate limiting,
 * retries, DLQ, external-id write-back, idempotency) is the sync engine's (`core/sync/engine.ts`).
 */
import type { ConsentStatus } from '../profile/model.ts';
import type { SyncField } from './config.ts';
import type { VendorClient } from './vendor-client.ts';

/** What a destination is sent: the profile reduced to the fields it may receive, consent resolved. */
export interface SyncRecord {
  readonly profileId: string;
  /** Lower-cased; the upsert key of most systems. Present whenever the profile has one. */
  readonly email?: string;
  /** Only the fields this destination receives (config, ownership); absent when unknown. */
  readonly fields: {
    readonly firstName?: string;
    readonly lastName?: string;
    readonly email?: string;
    /** E.164. */
    readonly phone?: string;
    readonly company?: string;
    readonly address?: {
      readonly line1?: string;
      readonly line2?: string;
      readonly city?: string;
      readonly region?: string;
      readonly postalCode?: string;
      readonly country?: string;
    };
    readonly locale?: string;
    readonly orderCount?: number;
    /** Minor units of the reporting currency. */
    readonly totalRevenue?: { readonly amount: number; readonly currency: string };
    /** ISO 8601. */
    readonly lastOrderAt?: string;
    readonly emailConsent?: ConsentStatus;
    readonly smsConsent?: ConsentStatus;
  };
  /**
   * Opt-outs, always present whatever the field configuration: they propagate everywhere.
   * `emailGroups` lists scoped email opt-outs (e.g. SendGrid ASM group ids).
   */
  readonly optOuts: {
    readonly email: boolean;
    readonly sms: boolean;
    readonly emailGroups: readonly string[];
  };
}

/** What the destination did. */
export interface DeliveryResult {
  /**
   * The destination's id for the person when the call returned one we did not know (a record was
   * created, or found by email): written back to the profile as the identity `<destination>:<id>`.
   */
  readonly externalId?: string;
  /** Vendor calls made (for metrics and logs). */
  readonly calls: number;
  /** Set when the destination had nothing to do (e.g. no email to identify the person by). */
  readonly skipped?: string;
}

export interface DeliveryContext {
  /** Base URL, auth headers, rate limit and retries already applied. */
  readonly client: VendorClient;
  /** This destination's id for the person, when the profile (or an earlier sync) knows it. */
  readonly externalId?: string;
  /** Stable per profile and destination: a retried creation is recognised by the vendor. */
  readonly idempotencyKey: string;
  /** Destination options from the sync configuration. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The time of this delivery (consent timestamps). */
  readonly now: Date;
}

export interface OutboundDefinition<K extends string = string> {
  /**
   * Credentials by name (env var locally, key of the connector's secret in AWS). All present: the
   * destination is enabled. None: locally its requests go to the outbox; in AWS it is skipped.
   */
  readonly secrets: Readonly<Record<K, string>>;
  /** The API's base URL (no trailing slash) and the env var that overrides it (tests, staging). */
  readonly baseUrl: {
    readonly envVar: string;
    readonly default: (secrets: Readonly<Record<K, string>>) => string;
  };
  /** Headers every request carries (authentication, API version). */
  headers(secrets: Readonly<Record<K, string>>): Record<string, string>;
  /** The documented limit (the configuration may lower it). */
  readonly rateLimit: { readonly requests: number; readonly perSeconds: number };
  /** Every field the vendor's record can hold; the default field set. */
  readonly capabilities: readonly SyncField[];
  /**
   * Classifies a 2xx answer that is really an error (GraphQL `errors`): return a retryable or
   * permanent error to throw, or undefined when it is a success.
   */
  classify?(response: { readonly status: number; readonly body: unknown }): Error | undefined;
  deliver(record: SyncRecord, context: DeliveryContext): Promise<DeliveryResult>;
}

/** Identity function that fixes the generic parameter, as `defineConnector` does for connectors. */
export function defineOutbound<K extends string>(definition: OutboundDefinition<K>): OutboundDefinition<K> {
  return definition;
}
