/**
 * SendGrid outbound: the profile as a Marketing Campaigns contact (`PUT /v3/marketing/contacts`, an
 * asynchronous upsert by email), and opt-outs as suppressions: an email opt-out goes to the global
 * suppression list (`POST /v3/asm/suppressions/global`), a group opt-out to that ASM group
 * (`POST /v3/asm/groups/{id}/suppressions`).
 *
 * Consent is enforced: a person opted out of email (or whose address bounced) is not upserted as a
 * marketing contact at all, and the phone number is left out when they opted out of SMS.
 * Options: `listIds` (lists to add contacts to), `customFields` (sync field -> SendGrid custom field
 * id such as `e1_N`).
 */
import type { SyncField } from '../../core/sync/config.ts';
import { defineOutbound, type SyncRecord } from '../../core/sync/destination.ts';

export const SENDGRID_API_URL = 'https://api.sendgrid.com';

/** The contact of a record for `PUT /v3/marketing/contacts`. */
export function marketingContact(
  record: SyncRecord & { email: string },
  customFields: Readonly<Partial<Record<SyncField, string>>> = {},
): Record<string, unknown> {
  const { fields } = record;
  const contact: Record<string, unknown> = { email: record.email };
  if (fields.firstName) contact.first_name = fields.firstName;
  if (fields.lastName) contact.last_name = fields.lastName;
  if (fields.phone && !record.optOuts.sms) contact.phone_number = fields.phone;
  if (fields.address) {
    const { line1, line2, city, region, postalCode, country } = fields.address;
    if (line1) contact.address_line_1 = line1;
    if (line2) contact.address_line_2 = line2;
    if (city) contact.city = city;
    if (region) contact.state_province_region = region;
    if (postalCode) contact.postal_code = postalCode;
    if (country) contact.country = country;
  }
  const custom: Record<string, string | number> = {};
  for (const [field, id] of Object.entries(customFields)) {
    const value = fields[field as keyof SyncRecord['fields']];
    if (typeof value === 'string' || typeof value === 'number') custom[id] = value;
    else if (field === 'totalRevenue' && fields.totalRevenue) custom[id] = fields.totalRevenue.amount;
  }
  if (Object.keys(custom).length > 0) contact.custom_fields = custom;
  return contact;
}

export const sendgridOutbound = defineOutbound({
  secrets: { SENDGRID_API_KEY: 'A SendGrid API key with Marketing and Suppressions write access' },
  baseUrl: { envVar: 'SENDGRID_API_URL', default: () => SENDGRID_API_URL },
  headers: (secrets) => ({ authorization: `Bearer ${secrets.SENDGRID_API_KEY}` }),
  // Per-endpoint limits are announced in X-RateLimit-* headers (and honoured); this keeps us well under.
  rateLimit: { requests: 10, perSeconds: 1 },
  capabilities: [
    'firstName',
    'lastName',
    'email',
    'phone',
    'address',
    'orderCount',
    'totalRevenue',
    'lastOrderAt',
    'emailConsent',
  ],
  async deliver(record, { client, options }) {
    const email = record.email;
    if (!email) return { calls: 0, skipped: 'no email' };
    let calls = 0;
    if (record.optOuts.email) {
      await client.request({
        method: 'POST',
        path: '/v3/asm/suppressions/global',
        body: { recipient_emails: [email] },
      });
      calls++;
    }
    for (const group of record.optOuts.emailGroups) {
      await client.request({
        method: 'POST',
        path: `/v3/asm/groups/${encodeURIComponent(group)}/suppressions`,
        body: { recipient_emails: [email] },
      });
      calls++;
    }
    const marketable = !record.optOuts.email && record.fields.emailConsent !== 'undeliverable';
    if (marketable) {
      const listIds = Array.isArray(options.listIds) ? options.listIds.map(String) : [];
      const customFields = (options.customFields ?? {}) as Partial<Record<SyncField, string>>;
      await client.request({
        method: 'PUT',
        path: '/v3/marketing/contacts',
        body: {
          ...(listIds.length > 0 ? { list_ids: listIds } : {}),
          contacts: [marketingContact({ ...record, email }, customFields)],
        },
      });
      calls++;
    }
    return { calls };
  },
});
