/**
 * HubSpot outbound: the profile as a HubSpot contact, through
 * `POST /crm/v3/objects/contacts/batch/upsert` (by the stored HubSpot id, else by email).
 *
 * Order stats and consent go to custom contact properties (create them once in HubSpot, group
 * "Omnihub"; names in {@link HUBSPOT_PROPERTIES}, overridable with the destination option
 * `properties`). HubSpot's own `hs_email_optout` is managed by its subscription system and is not
 * written through the CRM API, so the hub's opt-outs land in `omnihub_email_consent` /
 * `omnihub_sms_consent`, which HubSpot workflows and lists can use.
 */
import { currencyDigits } from '../../core/money.ts';
import type { SyncField } from '../../core/sync/config.ts';
import { defineOutbound, type SyncRecord } from '../../core/sync/destination.ts';
import { PermanentDeliveryError, vendorErrorReason } from '../../core/sync/vendor-client.ts';

export const HUBSPOT_API_URL = 'https://api.hubapi.com';

/** Sync field -> HubSpot contact property (address spreads over several, see {@link contactProperties}). */
export const HUBSPOT_PROPERTIES: Readonly<Partial<Record<SyncField, string>>> = {
  firstName: 'firstname',
  lastName: 'lastname',
  email: 'email',
  phone: 'phone',
  company: 'company',
  orderCount: 'omnihub_order_count',
  totalRevenue: 'omnihub_total_revenue',
  lastOrderAt: 'omnihub_last_order_at',
  emailConsent: 'omnihub_email_consent',
  smsConsent: 'omnihub_sms_consent',
};

const ADDRESS_PROPERTIES = {
  line1: 'address',
  city: 'city',
  region: 'state',
  postalCode: 'zip',
  country: 'country',
} as const;

/** Minor units as the decimal string HubSpot number properties take: 19900 USD -> "199.00". */
export function decimalAmount(amount: number, currency: string): string {
  const digits = currencyDigits(currency);
  return (amount / 10 ** digits).toFixed(digits);
}

/** The contact properties of a record. Opt-outs are written even where consent fields are not configured. */
export function contactProperties(
  record: SyncRecord,
  names: Readonly<Partial<Record<SyncField, string>>> = HUBSPOT_PROPERTIES,
): Record<string, string> {
  const { fields } = record;
  const properties: Record<string, string> = {};
  const set = (field: SyncField, value: string | number | undefined) => {
    const name = names[field];
    if (name && value !== undefined) properties[name] = String(value);
  };
  set('firstName', fields.firstName);
  set('lastName', fields.lastName);
  set('email', fields.email);
  set('phone', fields.phone);
  set('company', fields.company);
  if (fields.address) {
    for (const [part, property] of Object.entries(ADDRESS_PROPERTIES)) {
      const value = fields.address[part as keyof typeof ADDRESS_PROPERTIES];
      if (value !== undefined) properties[property] = value;
    }
  }
  set('orderCount', fields.orderCount);
  if (fields.totalRevenue)
    set('totalRevenue', decimalAmount(fields.totalRevenue.amount, fields.totalRevenue.currency));
  set('lastOrderAt', fields.lastOrderAt);
  set('emailConsent', fields.emailConsent ?? (record.optOuts.email ? 'unsubscribed' : undefined));
  set('smsConsent', fields.smsConsent ?? (record.optOuts.sms ? 'unsubscribed' : undefined));
  return properties;
}

interface UpsertResponse {
  readonly results?: ReadonlyArray<{ readonly id?: string; readonly new?: boolean }>;
  readonly errors?: readonly unknown[];
}

export const hubspotOutbound = defineOutbound({
  secrets: {
    HUBSPOT_ACCESS_TOKEN:
      'A private app access token (or OAuth access token) with the crm.objects.contacts.write scope',
  },
  baseUrl: { envVar: 'HUBSPOT_API_URL', default: () => HUBSPOT_API_URL },
  headers: (secrets) => ({ authorization: `Bearer ${secrets.HUBSPOT_ACCESS_TOKEN}` }),
  // OAuth apps: 100 requests per 10 s per app per portal (private apps on Pro/Enterprise: 190).
  rateLimit: { requests: 100, perSeconds: 10 },
  capabilities: [
    'firstName',
    'lastName',
    'email',
    'phone',
    'company',
    'address',
    'orderCount',
    'totalRevenue',
    'lastOrderAt',
    'emailConsent',
    'smsConsent',
  ],
  async deliver(record, { client, externalId, options }) {
    const names =
      (options.properties as Partial<Record<SyncField, string>> | undefined) ?? HUBSPOT_PROPERTIES;
    const key = externalId
      ? { idProperty: 'hs_object_id', id: externalId }
      : record.email
        ? { idProperty: 'email', id: record.email }
        : undefined;
    if (!key) return { calls: 0, skipped: 'no HubSpot id and no email to upsert by' };
    const response = await client.request({
      method: 'POST',
      path: '/crm/v3/objects/contacts/batch/upsert',
      body: {
        inputs: [{ ...key, properties: contactProperties(record, { ...HUBSPOT_PROPERTIES, ...names }) }],
      },
    });
    if (response.outbox) return { calls: 1 };
    const body = (response.body ?? {}) as UpsertResponse;
    // 207 Multi-Status: the batch was accepted but this input failed.
    if (response.status === 207 || (body.errors && body.errors.length > 0)) {
      throw new PermanentDeliveryError(response.status, vendorErrorReason(body));
    }
    const id = body.results?.[0]?.id;
    return { calls: 1, ...(id ? { externalId: String(id) } : {}) };
  },
});
