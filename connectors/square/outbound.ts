/**
 * Square outbound: the profile as a Square customer. Square has no upsert: `PUT
 * /v2/customers/{id}` when the profile knows the Square id, else `POST /v2/customers` with an
 * idempotency key derived from the profile id (a retried or concurrent creation returns the same
 * customer instead of a duplicate) and `reference_id` = the Omnihub profile id.
 *
 * Square's customer API has no writable marketing preference, so Square receives no consent and no
 * marketing fields (its own email campaigns read Square Marketing's subscriber list).
 */
import { defineOutbound, type SyncRecord } from '../../core/sync/destination.ts';

export const SQUARE_API_URL = 'https://connect.squareup.com';
/** The API version the requests are written against (`Square-Version` header). */
export const SQUARE_VERSION = '2025-10-16';

/** The customer fields of a record (CreateCustomer / UpdateCustomer share them). */
export function customerBody(record: SyncRecord): Record<string, unknown> {
  const { fields } = record;
  const body: Record<string, unknown> = {};
  if (fields.firstName) body.given_name = fields.firstName;
  if (fields.lastName) body.family_name = fields.lastName;
  if (fields.email) body.email_address = fields.email;
  if (fields.phone) body.phone_number = fields.phone;
  if (fields.company) body.company_name = fields.company;
  if (fields.address) {
    const { line1, line2, city, region, postalCode, country } = fields.address;
    const address: Record<string, string> = {};
    if (line1) address.address_line_1 = line1;
    if (line2) address.address_line_2 = line2;
    if (city) address.locality = city;
    if (region) address.administrative_district_level_1 = region;
    if (postalCode) address.postal_code = postalCode;
    // Square takes ISO 3166-1 alpha-2 only; free-text countries (HubSpot) would be refused.
    if (country && /^[A-Z]{2}$/.test(country)) address.country = country;
    if (Object.keys(address).length > 0) body.address = address;
  }
  return body;
}

export const squareOutbound = defineOutbound({
  secrets: { SQUARE_ACCESS_TOKEN: 'A Square access token with CUSTOMERS_WRITE permission' },
  baseUrl: { envVar: 'SQUARE_API_URL', default: () => SQUARE_API_URL },
  headers: (secrets) => ({
    authorization: `Bearer ${secrets.SQUARE_ACCESS_TOKEN}`,
    'square-version': SQUARE_VERSION,
  }),
  // Square publishes no limit; this is a conservative default, and 429 RATE_LIMITED is honoured.
  rateLimit: { requests: 10, perSeconds: 1 },
  capabilities: ['firstName', 'lastName', 'email', 'phone', 'company', 'address'],
  async deliver(record, { client, externalId, idempotencyKey }) {
    const body = customerBody(record);
    if (Object.keys(body).length === 0) return { calls: 0, skipped: 'nothing Square can store' };
    if (externalId) {
      await client.request({ method: 'PUT', path: `/v2/customers/${encodeURIComponent(externalId)}`, body });
      return { calls: 1 };
    }
    const response = await client.request({
      method: 'POST',
      path: '/v2/customers',
      body: { idempotency_key: idempotencyKey, ...body, reference_id: record.profileId },
    });
    const id = (response.body as { customer?: { id?: unknown } } | undefined)?.customer?.id;
    return { calls: 1, ...(typeof id === 'string' ? { externalId: id } : {}) };
  },
});
