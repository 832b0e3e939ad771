import { describe, expect, it } from 'vitest';
import {
  identitiesFromKeys,
  identitiesOf,
  identityKey,
  normalizeEmail,
  normalizePhone,
} from '../../core/identity/identity.ts';

describe('Identity normalisation', () => {
  it.each([
    ['  Bob@Example.COM ', 'bob@example.com'],
    ['not-an-email', undefined],
    ['', undefined],
    [42, undefined],
  ])('email %j -> %j', (raw, expected) => {
    expect(normalizeEmail(raw)).toBe(expected);
  });

  it.each([
    ['+1 613-555-1212', 'US', '+16135551212'],
    ['(212) 555-4240', 'US', '+12125554240'],
    ['020 7946 0018', 'GB', '+442079460018'],
    ['12', 'US', undefined],
    ['', 'US', undefined],
  ] as const)('phone %j in %s -> %j', (raw, region, expected) => {
    expect(normalizePhone(raw, region)).toBe(expected);
  });

  it('collects the identities of a record and keys them', () => {
    const identities = identitiesOf({
      email: 'A@B.co',
      phone: '+16135551212',
      external: [['shopify', 7064n]],
    });
    expect(identities.map(identityKey)).toEqual(['email:a@b.co', 'phone:+16135551212', 'ext:shopify:7064']);
    expect(identitiesFromKeys(identities.map(identityKey))).toEqual(identities);
  });
});
