/**
 * The phone-number metadata Omnihub ships: libphonenumber-js's `min` metadata (every country, with
 * the number patterns and types that parsing and validation use) minus the formatting rules, which
 * only formatting and as-you-type input read. It is 32 KB instead of 83 KB in every bundle that
 * normalises phone numbers. `npm run phone-metadata` writes `phone-metadata.json` from the installed
 * libphonenumber-js; `test/core/phone.test.ts` fails when the two disagree, and proves the stripped
 * metadata parses every example number of every country (and random digit strings) exactly as the
 * full `min` metadata does.
 */
import type { MetadataJson } from 'libphonenumber-js/core';

/** Index of the formats in a country's metadata array (see libphonenumber-js `metadata.js`). */
const FORMATS = 4;

/** The `min` metadata with every country's formatting rules replaced by 0 (absent). */
export function withoutFormats(metadata: MetadataJson): MetadataJson {
  const strip = (countries: Record<string, unknown[]> | undefined) =>
    countries &&
    Object.fromEntries(
      Object.entries(countries).map(([code, country]) => [
        code,
        country.map((part, index) => (index === FORMATS ? 0 : part)),
      ]),
    );
  const source = metadata as unknown as {
    countries: Record<string, unknown[]>;
    nonGeographic?: Record<string, unknown[]>;
  };
  return {
    ...metadata,
    countries: strip(source.countries),
    ...(source.nonGeographic ? { nonGeographic: strip(source.nonGeographic) } : {}),
  } as unknown as MetadataJson;
}
