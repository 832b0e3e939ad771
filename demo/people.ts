/**
 * The demo's cast: three fictitious customers of "Northwind Outfitters", a retailer with a Shopify
 * store in the US and one in Canada, a Square point of sale, HubSpot as CRM, SendGrid for email and
 * Twilio for SMS. Emails use the reserved example.com / example.net domains; phone numbers are in the
 * 555-0100..0199 range that North American numbering reserves for fiction.
 *
 * Every vendor payload of the journey is built from these records, and the expected profiles
 * (`truth.ts`) are derived from the payloads' expected events, so nothing here is typed twice.
 */

export type PersonId = 'ava' | 'noah' | 'mia';

export interface Person {
  readonly id: PersonId;
  readonly firstName: string;
  readonly lastName: string;
  /** As the person typed it at the first system that met them (normalised by the connectors). */
  readonly email: string;
  /** A second address, used at one system only (Noah's work email at the store counter). */
  readonly otherEmail?: string;
  readonly phone: string;
  readonly shopifyCustomerId: number;
  readonly squareCustomerId?: string;
  readonly hubspotContactId?: number;
  readonly address: {
    readonly line1: string;
    readonly line2?: string;
    readonly city: string;
    readonly province: string;
    readonly provinceCode: string;
    readonly zip: string;
    readonly country: string;
    readonly countryCode: string;
  };
}

export const people: Readonly<Record<PersonId, Person>> = {
  ava: {
    id: 'ava',
    firstName: 'Ava',
    lastName: 'Reyes',
    email: 'Ava.Reyes@Example.com',
    phone: '+13125550142',
    shopifyCustomerId: 7390018463001,
    squareCustomerId: 'JDKYHBWT1D4F8MFH63DBMEN8Y4',
    hubspotContactId: 51234501,
    address: {
      line1: '410 W Maple St',
      line2: 'Apt 3',
      city: 'Chicago',
      province: 'Illinois',
      provinceCode: 'IL',
      zip: '60610',
      country: 'United States',
      countryCode: 'US',
    },
  },
  noah: {
    id: 'noah',
    firstName: 'Noah',
    lastName: 'Kim',
    email: 'noah.kim@example.net',
    otherEmail: 'nkim@example.com',
    phone: '+12065550187',
    shopifyCustomerId: 7390018463002,
    squareCustomerId: 'R8MW2HNC4T5QJ6VB7X9YZ3K1PD',
    address: {
      line1: '1200 Pine St',
      city: 'Seattle',
      province: 'Washington',
      provinceCode: 'WA',
      zip: '98101',
      country: 'United States',
      countryCode: 'US',
    },
  },
  mia: {
    id: 'mia',
    firstName: 'Mia',
    lastName: 'Chen',
    email: 'mia.chen@example.com',
    phone: '+14165550134',
    shopifyCustomerId: 6120044871003,
    address: {
      line1: '88 Queens Quay W',
      line2: 'Unit 1204',
      city: 'Toronto',
      province: 'Ontario',
      provinceCode: 'ON',
      zip: 'M5J 0B8',
      country: 'Canada',
      countryCode: 'CA',
    },
  },
};

/** The business's own sending numbers (Twilio) and stores. */
export const business = {
  name: 'Northwind Outfitters',
  shopifyStores: {
    us: { domain: 'northwind-outfitters.myshopify.com', currency: 'USD', utcOffset: '-05:00' },
    ca: { domain: 'northwind-outfitters-ca.myshopify.com', currency: 'CAD', utcOffset: '-04:00' },
  },
  squareMerchantId: 'MLNW7QX2K0D5E',
  squareLocationId: 'LNW42CHICAGO0',
  hubspotPortalId: 24681357,
  hubspotAppId: 1357913,
  twilioNumbers: { us: '+13125550100', ca: '+14165550100' },
} as const;
