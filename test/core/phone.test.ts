import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { type CountryCode, type MetadataJson, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import min from 'libphonenumber-js/min/metadata';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { normalizePhone } from '../../core/identity/identity.ts';
import { withoutFormats } from '../../core/identity/phone-metadata.ts';

/** What libphonenumber-js answers with its complete `min` metadata: the reference. */
function reference(raw: string, region: CountryCode): string | undefined {
  const parsed = parsePhoneNumberFromString(raw.trim(), region, min);
  return parsed?.isValid() ? parsed.number : undefined;
}

const countries = Object.keys((min as unknown as { countries: object }).countries) as CountryCode[];

/** Every example number of every country, written the ways people and vendors write them. */
function writtenForms(): Array<[string, CountryCode]> {
  const forms: Array<[string, CountryCode]> = [];
  for (const [country, national] of Object.entries(examples) as Array<[CountryCode, string]>) {
    const parsed = parsePhoneNumberFromString(national, country, min);
    const e164 = parsed?.number;
    const written = [
      national,
      parsed?.formatNational(),
      parsed?.formatInternational(),
      e164,
      e164 && `00${e164.slice(1)}`,
      national.slice(1),
      `0${national}`,
      `${national}9`,
    ];
    for (const raw of written) if (raw) forms.push([raw, country]);
  }
  return forms;
}

describe('Phone metadata (libphonenumber-js min without formatting rules)', () => {
  it('is what `npm run phone-metadata` writes from the installed libphonenumber-js', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../core/identity/phone-metadata.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(withoutFormats(min as unknown as MetadataJson))));
  });

  it('is less than half the size of the min metadata', () => {
    const full = JSON.stringify(min).length;
    const shipped = JSON.stringify(withoutFormats(min as unknown as MetadataJson)).length;
    expect(shipped).toBeLessThan(full / 2);
  });

  it('normalises every example number of every country exactly as the full metadata does', () => {
    const forms = writtenForms();
    expect(forms.length).toBeGreaterThan(1500);
    const valid = forms.filter(([raw, region]) => reference(raw, region) !== undefined).length;
    // The comparison means something only if many of the forms are valid numbers.
    expect(valid).toBeGreaterThan(forms.length / 3);
    for (const [raw, region] of forms)
      expect([raw, region, normalizePhone(raw, region)]).toEqual([raw, region, reference(raw, region)]);
  });

  it('agrees with the full metadata on random digit strings in random regions', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', '+', '0', '00', '+1 ', '('),
        fc.stringMatching(/^[0-9]{3,15}$/),
        fc.constantFrom(...countries),
        (prefix, digits, region) => {
          expect(normalizePhone(prefix + digits, region)).toBe(reference(prefix + digits, region));
        },
      ),
      { numRuns: 20_000 },
    );
  });
});
