/**
 * Shopify outbound: the profile as a Shopify customer through the Admin GraphQL API. `customerSet`
 * upserts (by the stored customer id, else by email, else by phone); opt-outs then go through
 * `customerEmailMarketingConsentUpdate` / `customerSmsMarketingConsentUpdate`.
 *
 * Addresses are not sent: `customerSet` replaces the whole address list, which would delete the
 * addresses Shopify customers keep for shipping. Opt-ins are not pushed either: a marketing
 * subscription is given per system, so only opt-outs propagate.
 */
import { defineOutbound, type SyncRecord } from '../../core/sync/destination.ts';
import { PermanentDeliveryError, ThrottledError, vendorErrorReason } from '../../core/sync/vendor-client.ts';

/** The Admin API version the mutations are written against. */
export const SHOPIFY_API_VERSION = '2025-10';

export const CUSTOMER_SET = `mutation customerSet($identifier: CustomerSetIdentifiers, $input: CustomerSetInput!) {
  customerSet(identifier: $identifier, input: $input) {
    customer { id }
    userErrors { code field message }
  }
}`;

export const EMAIL_CONSENT_UPDATE = `mutation customerEmailMarketingConsentUpdate($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id }
    userErrors { code field message }
  }
}`;

export const SMS_CONSENT_UPDATE = `mutation customerSmsMarketingConsentUpdate($input: CustomerSmsMarketingConsentUpdateInput!) {
  customerSmsMarketingConsentUpdate(input: $input) {
    customer { id }
    userErrors { code field message }
  }
}`;

const GID_PREFIX = 'gid://shopify/Customer/';

/** `CustomerSetInput` of a record. */
export function customerSetInput(record: SyncRecord): Record<string, string> {
  const { fields } = record;
  const input: Record<string, string> = {};
  if (fields.email) input.email = fields.email;
  if (fields.firstName) input.firstName = fields.firstName;
  if (fields.lastName) input.lastName = fields.lastName;
  if (fields.phone) input.phone = fields.phone;
  if (fields.locale) input.locale = fields.locale;
  return input;
}

interface GraphQlError {
  readonly message?: string;
  readonly extensions?: { readonly code?: string };
}

interface GraphQlBody {
  readonly data?: Record<string, { customer?: { id?: string } | null; userErrors?: unknown[] } | null>;
  readonly errors?: readonly GraphQlError[];
  readonly extensions?: {
    readonly cost?: {
      readonly requestedQueryCost?: number;
      readonly throttleStatus?: { readonly currentlyAvailable?: number; readonly restoreRate?: number };
    };
  };
}

/** GraphQL answers 200 for throttling and query errors: tell them apart. */
export function classifyGraphQl(response: {
  readonly status: number;
  readonly body: unknown;
}): Error | undefined {
  const body = (response.body ?? {}) as GraphQlBody;
  const errors = body.errors ?? [];
  if (errors.length === 0) return undefined;
  if (errors.some((error) => error.extensions?.code === 'THROTTLED' || error.message === 'Throttled')) {
    const cost = body.extensions?.cost;
    const missing = (cost?.requestedQueryCost ?? 10) - (cost?.throttleStatus?.currentlyAvailable ?? 0);
    const rate = cost?.throttleStatus?.restoreRate ?? 100;
    return new ThrottledError('Shopify GraphQL throttled', Math.max(0, Math.ceil((missing / rate) * 1000)));
  }
  return new PermanentDeliveryError(response.status, vendorErrorReason({ errors }));
}

export const shopifyOutbound = defineOutbound({
  secrets: {
    SHOPIFY_ADMIN_TOKEN: 'Admin API access token of the app (write_customers scope)',
    SHOPIFY_SHOP_DOMAIN: 'The shop, e.g. omnihub-demo.myshopify.com',
  },
  baseUrl: {
    envVar: 'SHOPIFY_API_URL',
    default: (secrets) => `https://${secrets.SHOPIFY_SHOP_DOMAIN}/admin/api/${SHOPIFY_API_VERSION}`,
  },
  headers: (secrets) => ({ 'x-shopify-access-token': secrets.SHOPIFY_ADMIN_TOKEN }),
  // Standard plans restore 100 cost points per second; a customer mutation costs about 10.
  rateLimit: { requests: 10, perSeconds: 1 },
  capabilities: ['firstName', 'lastName', 'email', 'phone', 'locale'],
  classify: classifyGraphQl,
  async deliver(record, { client, externalId }) {
    const input = customerSetInput(record);
    const identifier = externalId
      ? { id: `${GID_PREFIX}${externalId}` }
      : record.email
        ? { email: record.email }
        : input.phone
          ? { phone: input.phone }
          : undefined;
    if (!identifier) return { calls: 0, skipped: 'no Shopify id, email or phone to upsert by' };
    if (identifier.email && !input.email) input.email = identifier.email;

    const mutate = async (query: string, variables: Record<string, unknown>, field: string) => {
      const response = await client.request({
        method: 'POST',
        path: '/graphql.json',
        body: { query, variables },
      });
      if (response.outbox) return undefined;
      const result = (response.body as GraphQlBody).data?.[field];
      if (result?.userErrors && result.userErrors.length > 0) {
        throw new PermanentDeliveryError(response.status, vendorErrorReason({ errors: result.userErrors }));
      }
      return result?.customer?.id ?? undefined;
    };

    let calls = 1;
    const gid = (await mutate(CUSTOMER_SET, { identifier, input }, 'customerSet')) ?? identifier.id;
    if (gid && record.optOuts.email) {
      await mutate(
        EMAIL_CONSENT_UPDATE,
        { input: { customerId: gid, emailMarketingConsent: { marketingState: 'UNSUBSCRIBED' } } },
        'customerEmailMarketingConsentUpdate',
      );
      calls++;
    }
    if (gid && record.optOuts.sms && input.phone) {
      await mutate(
        SMS_CONSENT_UPDATE,
        { input: { customerId: gid, smsMarketingConsent: { marketingState: 'UNSUBSCRIBED' } } },
        'customerSmsMarketingConsentUpdate',
      );
      calls++;
    }
    const id = gid?.startsWith(GID_PREFIX) ? gid.slice(GID_PREFIX.length) : undefined;
    return { calls, ...(id ? { externalId: id } : {}) };
  },
});
