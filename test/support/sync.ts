/**
 * Shared pieces of the sync tests (test/sync and each connector's `outbound.test.ts`): profile item
 * builders, the record a destination is sent, and vendor clients aimed at the fake vendor APIs.
 */

import type { Stamped } from '../../core/profile/model.ts';
import { toProfileView } from '../../core/profile/reader.ts';
import type { ProfileItem } from '../../core/profile/store.ts';
import { resolveDestination, SyncConfig } from '../../core/sync/config.ts';
import type { OutboundDefinition, SyncRecord } from '../../core/sync/destination.ts';
import { TokenBucket } from '../../core/sync/rate-limit.ts';
import { buildSyncRecord } from '../../core/sync/record.ts';
import { HttpVendorClient } from '../../core/sync/vendor-client.ts';

/** Short delays so fault tests stay fast. */
export const FAST_DELIVERY = {
  maxAttempts: 5,
  baseDelayMs: 5,
  maxDelayMs: 20,
  maxInProcessWaitMs: 3_000,
  timeoutMs: 2_000,
};

export function clientFor(
  outbound: OutboundDefinition,
  baseUrl: string,
  secrets: Record<string, string>,
  delivery: Partial<typeof FAST_DELIVERY> = {},
  onRetry?: (retry: { readonly throttled: boolean }) => void,
): HttpVendorClient {
  return new HttpVendorClient({
    destination: 'test',
    baseUrl,
    headers: outbound.headers(secrets),
    limiter: new TokenBucket(outbound.rateLimit),
    delivery: { ...FAST_DELIVERY, ...delivery },
    ...(outbound.classify ? { classify: outbound.classify } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}

export const DEFAULT_CONFIG = SyncConfig.parse({});

function stamped<T>(value: T, source: string, at = '2025-04-23T14:15:00.000Z'): Stamped<T> {
  return { value, source, at, eventId: `e-${source}` };
}

/** A live profile: Ada, known to Shopify, with one USD order. */
export function profileItem(overrides: Partial<ProfileItem> = {}): ProfileItem {
  return {
    profileId: 'p_ada',
    status: 'live',
    version: 3,
    createdAt: '2025-04-22T10:00:00.000Z',
    updatedAt: '2025-04-23T14:15:00.000Z',
    identities: ['email:ada@example.com', 'ext:shopify:706405506930370084', 'phone:+14155550100'],
    traits: {
      firstName: stamped('Ada', 'shopify'),
      lastName: stamped('Lovelace', 'shopify'),
      email: stamped('ada@example.com', 'shopify'),
      phone: stamped('+14155550100', 'shopify'),
      'address.line1': stamped('1 Analytical Way', 'shopify'),
      'address.city': stamped('London', 'shopify'),
      'address.country': stamped('GB', 'shopify'),
    },
    consent: {},
    orders: {},
    channels: ['shopify'],
    mergedFrom: [],
    mergeHistory: [],
    stats: {
      orderCount: 2,
      lifetimeValue: { USD: 19_900, EUR: 500 },
      firstOrderAt: '2025-04-01T09:00:00.000Z',
      lastOrderAt: '2025-04-20T09:00:00.000Z',
      channels: ['shopify'],
    },
    ...overrides,
  };
}

/** Ada, opted out of email (globally and from SendGrid group 42) and of SMS. */
export const optedOut = profileItem({
  consent: {
    email: stamped({ status: 'unsubscribed' as const, reason: 'unsubscribe' }, 'sendgrid'),
    sms: stamped({ status: 'unsubscribed' as const, reason: 'STOP' }, 'twilio'),
    'email/group:42': stamped({ status: 'unsubscribed' as const }, 'sendgrid'),
  },
});

/** The record destination `id` is sent for this profile, under the defaults plus `overrides`. */
export function recordFor(
  id: string,
  outbound: OutboundDefinition,
  item: ProfileItem,
  overrides = {},
): SyncRecord {
  const config = SyncConfig.parse(overrides);
  return buildSyncRecord(toProfileView(item), resolveDestination(config, id, outbound), config);
}

export { stamped };
