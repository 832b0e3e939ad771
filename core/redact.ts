/**
 * Personal data out of log lines. Two rules, applied to every line every function and the local hub
 * write:
 *
 * - **By value**: email addresses and phone-number-like digit runs in any text become `[email]` and
 *   `[phone]`, also when percent-encoded (`ava%40example.com`, `%2B13125550142`,
 *   `/profiles/%2B44%2020%207946%200958`, `bo.x%40ex%C3%A4mple.de`) or form-encoded (`+44+20+7946+0958`),
 *   because error messages, request paths and query strings quote what they carry: a word with
 *   encoded characters is decoded (UTF-8, else Latin-1), and written decoded and redacted when it held
 *   personal data.
 * - **By key**: an attribute whose name says it holds personal data (`email`, `phone`, `firstName`,
 *   `name`, `address`, `body` ...) becomes `[redacted]` whatever its value, because a name or a street
 *   has no pattern to recognise it by.
 *
 * Placeholders rather than hashes: an unkeyed hash of an email is reversible by trying the addresses
 * one suspects, and a keyed one needs a secret in every function. Support correlates log lines by
 * `correlationId`, `eventId` and `profileId`, which are never redacted.
 *
 * Over-redaction is acceptable; a leak is not. What is not recognised: a phone number glued to letters
 * or to a longer digit run (`abc4155550123`, indistinguishable from an id) and names in free text.
 */

export const EMAIL_PLACEHOLDER = '[email]';
export const PHONE_PLACEHOLDER = '[phone]';
export const REDACTED = '[redacted]';

// `%40` is an encoded `@`: query strings and form bodies carry emails that way. The local part takes
// the characters RFC 5322 allows except the ones that usually border an address in a line (quotes,
// `=`, `/`, `?`), and may be empty, so an odd local part still loses its `@domain`.
const EMAIL = /[\p{L}\p{N}._%+!#$&*^`{|}~-]*(?:@|%40)[\p{L}\p{N}.-]+\.[\p{L}]{2,}/giu;

// A run of digits with the separators people write phone numbers with, optionally after `+` or its
// encoding `%2B`. The look-arounds stop a match inside longer tokens (UUIDs, ISO dates, hex ids), where
// the run touches a letter or a dash.
const PHONE_CANDIDATE = /(?<![\w-])(?:\+|%2B)?\(?\d[\d ().-]{5,}\d(?![\w-])/gi;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const SEPARATOR = /[ ().-]/;

// What an encoded word looks like: a percent escape, or digits (or a bracketed area code) joined by `+`,
// a form-encoded space.
const ENCODED = /%[0-9A-Fa-f]{2}|[\d)]\+[(\d]/;
const WORD = /\S+/g;
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;
// In a decoded word, `+` may also separate the groups of a number (`+44+20+7946+0958`).
const DECODED_PHONE_CANDIDATE = /(?<![\w-])\+?\(?\d[\d ().+-]{5,}\d(?![\w-])/g;
// Decoding must not let a word break the line it is logged on.
const CONTROL_CHARACTERS = /\p{Cc}/gu;
// Bounded: `%2540` decodes to `%40`, then to `@`; no log line is encoded deeper than that in practice.
const MAX_DECODING_ROUNDS = 3;

/** The shortest text that can hold an email (`a@b.cd`); phone numbers need 7 digits. */
const MIN_CANDIDATE_LENGTH = 6;

function redactPhoneCandidate(candidate: string): string {
  if (IPV4.test(candidate)) return candidate;
  const digits = candidate.replace(/%2B/gi, '').replace(/\D/g, '').length;
  if (digits >= 7 && digits <= 15) return PHONE_PLACEHOLDER;
  // Longer: ids are one unbroken run (Shopify's 706405506930370084); with separators it is more likely
  // several numbers written side by side ("+1 312 555 0142 415 555 0199").
  return digits > 15 && SEPARATOR.test(candidate) ? PHONE_PLACEHOLDER : candidate;
}

/** A run of percent escapes as text: UTF-8 when the bytes are, else Latin-1 (what older forms send). */
function decodeEscapes(run: string): string {
  try {
    return decodeURIComponent(run);
  } catch {
    return Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1');
  }
}

/** A word whose percent escapes (and escapes of escapes) are decoded. */
function decodeWord(word: string): string {
  let decoded = word;
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const next = decoded.replace(ESCAPES, decodeEscapes);
    if (next === decoded) break;
    decoded = next;
  }
  return decoded;
}

/** The word decoded and redacted when decoding shows personal data in it, else the word as it was. */
function redactEncodedWord(word: string): string {
  if (!ENCODED.test(word)) return word;
  const decoded = decodeWord(word);
  let redacted = decoded.includes('@') ? decoded.replace(EMAIL, EMAIL_PLACEHOLDER) : decoded;
  redacted = redacted.replace(DECODED_PHONE_CANDIDATE, redactPhoneCandidate);
  return redacted === decoded ? word : redacted.replace(CONTROL_CHARACTERS, ' ');
}

/**
 * Replaces email addresses and phone-number-like digit runs (7 to 15 digits, E.164's maximum) with
 * placeholders, also where they are percent- or form-encoded; returns `text` itself when there is
 * nothing to replace.
 *
 * @example
 * redactPersonalData('bounce for ana@example.com, +1 (555) 010-9999'); // 'bounce for [email], [phone]'
 * redactPersonalData('GET /profiles/%2B44%2020%207946%200958'); // 'GET /profiles/[phone]'
 */
export function redactPersonalData(text: string): string {
  if (text.length < MIN_CANDIDATE_LENGTH) return text;
  // An ARN's 12-digit account id is not a phone number; ARNs are in every Lambda and SQS event.
  const arn = text.startsWith('arn:');
  // Encoded words first: the passes below would see only fragments of them (`%2020%207946`).
  let result = !arn && ENCODED.test(text) ? text.replace(WORD, redactEncodedWord) : text;
  if (result.includes('@') || result.includes('%40')) result = result.replace(EMAIL, EMAIL_PLACEHOLDER);
  return arn ? result : result.replace(PHONE_CANDIDATE, redactPhoneCandidate);
}

// Attribute names compared without case, `_`, `-` or spaces: `first_name`, `firstName`, `FirstName`.
const PERSONAL_KEYS = new Set([
  'name',
  'firstname',
  'lastname',
  'fullname',
  'middlename',
  'givenname',
  'familyname',
  'displayname',
  'nickname',
  'username',
  'customername',
  'contactname',
  'billingname',
  'shippingname',
  'street',
  'zip',
  'zipcode',
  'postcode',
  'postalcode',
  'birthday',
  'birthdate',
  'dateofbirth',
  'dob',
  // Request and message bodies (webhooks, SQS records, SMS text) carry personal data by nature.
  'body',
  'rawbody',
  // Not personal data, but never to be logged either.
  'authorization',
  'cookie',
  'password',
]);
const PERSONAL_KEY_PARTS = ['email', 'phone', 'mobile', 'address', 'firstname', 'lastname', 'fullname'];
const keyVerdicts = new Map<string, boolean>();

/**
 * Whether an attribute's name says it holds personal data, so its value is redacted whatever it is.
 *
 * @example
 * isPersonalDataKey('billing_address'); // true
 * isPersonalDataKey('profileId'); // false
 */
export function isPersonalDataKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    const plain = key.toLowerCase().replace(/[\s_-]/g, '');
    verdict = PERSONAL_KEYS.has(plain) || PERSONAL_KEY_PARTS.some((part) => plain.includes(part));
    // Log attribute names are a small, fixed vocabulary; the bound keeps odd callers from growing it.
    if (keyVerdicts.size < 10_000) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** Deeper than any log attribute we write; below it values are dropped rather than walked. */
const MAX_DEPTH = 24;

function redactValue(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactPersonalData(value);
  if (typeof value !== 'object' || value === null) return value;
  // Errors are formatted when the line is printed; the log formatter redacts them there.
  if (value instanceof Error || ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set)
    return value;
  if (ancestors.includes(value)) return '[circular]';
  if (ancestors.length >= MAX_DEPTH) return '[truncated]';
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // Dates, URLs: what JSON.stringify would print, redacted (a URL's query can hold an email).
    const serialised: unknown = toJSON.call(value);
    return serialised === value ? value : redactValue(serialised, ancestors);
  }
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        const redacted = redactValue(item, ancestors);
        if (redacted !== item) {
          copy ??= value.slice();
          copy[index] = redacted;
        }
      }
      return copy ?? value;
    }
    return redactRecord(value as Record<string, unknown>, ancestors);
  } finally {
    ancestors.pop();
  }
}

function redactRecord(record: Record<string, unknown>, ancestors: object[]): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const item = record[key];
    const redacted =
      item === undefined || item === null
        ? item
        : isPersonalDataKey(key)
          ? REDACTED
          : redactValue(item, ancestors);
    if (redacted !== item) {
      copy ??= { ...record };
      copy[key] = redacted;
    }
  }
  return copy ?? record;
}

/**
 * Log attributes with personal data redacted by key and by value, at any depth. Copy on write: when
 * nothing matches, the very same object comes back and nothing was allocated.
 *
 * @example
 * redactLogAttributes({ profileId: 'p_1', email: 'ava@example.com', note: 'call +13125550142' });
 * // { profileId: 'p_1', email: '[redacted]', note: 'call [phone]' }
 */
export function redactLogAttributes<T extends Record<string, unknown>>(attributes: T): T {
  return redactRecord(attributes, [attributes]) as T;
}
