/**
 * Writes core/identity/phone-metadata.json: the installed libphonenumber-js `min` metadata without
 * its formatting rules (see core/identity/phone-metadata.ts). Run after upgrading libphonenumber-js:
 *
 *   npm run phone-metadata
 */
import { writeFileSync } from 'node:fs';
import type { MetadataJson } from 'libphonenumber-js/core';
import min from 'libphonenumber-js/min/metadata';
import { withoutFormats } from '../core/identity/phone-metadata.ts';

const target = new URL('../core/identity/phone-metadata.json', import.meta.url);
const json = JSON.stringify(withoutFormats(min as unknown as MetadataJson));
writeFileSync(target, `${json}\n`);
console.log(`wrote core/identity/phone-metadata.json (${json.length} bytes)`);
