/**
 * Identities name a person across systems: an email, a phone number (E.164) or an external id
 * (`system:id`, e.g. `shopify:706405506930370084`). Every connector normalises through these
 * functions so that the same person always yields the same identity keys.
 */
import { type CountryCode, type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import * as z from 'zod/mini';
import { described } from '../zod-messages.ts';
import phoneMetadata from './phone-metadata.json' with { type: 'json' };

export const EmailIdentity = z.object({ type: z.literal('email'), value: z.string().check(z.minLength(3)) });
export const PhoneIdentity = z.object({
  type: z.literal('phone'),
  value: z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'E.164 phone number')),
});
export const ExternalIdentity = z.object({
  type: z.literal('external'),
  system: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, 'connector id')),
  value: z.string().check(z.minLength(1)),
});
export const Identity = described(
  z.discriminatedUnion('type', [EmailIdentity, PhoneIdentity, ExternalIdentity]),
  'One identity of a person: email (lower case), phone (E.164) or an external system id',
);
export type Identity = z.infer<typeof Identity>;

/** Trims and lower-cases an email; returns undefined for anything that is not plausibly an address. */
export function normalizeEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim().toLowerCase();
  // Deliberately loose: vendors already validated the address; we only refuse obvious garbage.
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}

/** The default region for phone numbers written without a country code (`OMNIHUB_DEFAULT_REGION`). */
export function defaultPhoneRegion(): CountryCode {
  return (process.env.OMNIHUB_DEFAULT_REGION?.toUpperCase() || 'US') as CountryCode;
}

/** libphonenumber-js metadata for parsing and validation, without formatting rules (phone-metadata.ts). */
const PHONE_METADATA = phoneMetadata as unknown as MetadataJson;

/** Parses a phone number to E.164 with libphonenumber-js; undefined when it is not a valid number. */
export function normalizePhone(raw: unknown, region?: CountryCode): string | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  // The default region is read only for an actual number: most records carry none, and every read
  // of process.env is a call into the runtime.
  const parsed = parsePhoneNumberFromString(raw.trim(), region ?? defaultPhoneRegion(), PHONE_METADATA);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** Collects the identities present in a record, dropping the ones that do not normalise. */
export function identitiesOf(parts: {
  email?: unknown;
  phone?: unknown;
  external?: ReadonlyArray<readonly [system: string, id: unknown]>;
}): Identity[] {
  const out: Identity[] = [];
  const email = normalizeEmail(parts.email);
  if (email) out.push({ type: 'email', value: email });
  const phone = normalizePhone(parts.phone);
  if (phone) out.push({ type: 'phone', value: phone });
  for (const [system, id] of parts.external ?? []) {
    if ((typeof id === 'string' && id !== '') || typeof id === 'number' || typeof id === 'bigint') {
      out.push({ type: 'external', system, value: String(id) });
    }
  }
  return out;
}

/** A stable string key for an identity: `email:a@b.com`, `phone:+1415…`, `ext:shopify:123`. */
export function identityKey(identity: Identity): string {
  return identity.type === 'external'
    ? `ext:${identity.system}:${identity.value}`
    : `${identity.type}:${identity.value}`;
}

/** The inverse of {@link identityKey}, for many keys; keys of no known form are skipped. */
export function identitiesFromKeys(keys: readonly string[]): Identity[] {
  return keys.flatMap((key): Identity[] => {
    if (key.startsWith('email:')) return [{ type: 'email', value: key.slice(6) }];
    if (key.startsWith('phone:')) return [{ type: 'phone', value: key.slice(6) }];
    if (key.startsWith('ext:')) {
      const rest = key.slice(4);
      const colon = rest.indexOf(':');
      return colon > 0
        ? [{ type: 'external', system: rest.slice(0, colon), value: rest.slice(colon + 1) }]
        : [];
    }
    return [];
  });
}
