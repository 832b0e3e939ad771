/**
 * Lossless JSON for Shopify bodies.
 *
 * Shopify ids are 64-bit integers written as bare JSON numbers (`"id":706405506930370084`). Above
 * 2^53 a JavaScript number cannot hold them: `JSON.parse` silently rounds that id to
 * 706405506930370000, which would name a different customer. `admin_graphql_api_id` carries the id
 * as text, but not every object has one (`customer` inside an order, `order_id` of a refund, line
 * item `variant_id`...), so we keep every integer exactly instead of special-casing fields.
 *
 * Approach: parse once with `JSON.parse` (which also validates the text and gives a clear error),
 * then, only when the text contains an integer literal beyond the safe range, rewrite those literals
 * as JSON strings and parse again. The rewrite walks the already-validated text: outside string
 * literals, a `-` or a digit always starts a number token, and a number token is made of
 * `0-9 . e E + -` only, so a small scanner that skips strings (honouring `\` escapes) finds every
 * number exactly. Only integer literals (no fraction, no exponent) that are not safe integers are
 * quoted; everything else is left byte for byte. Translators then read ids as `number | string`.
 */
import { parseJson } from '../../core/ingest/body.ts';

/** A run of 16+ digits: the cheapest test that an unsafe integer might be present (2^53 has 16). */
const LONG_DIGIT_RUN = /\d{16}/;
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Parses a JSON body, turning integer literals beyond `Number.MAX_SAFE_INTEGER` into decimal strings
 * so that no id loses precision. Throws `ValidationError` (400) when the body is not JSON.
 *
 * @example
 * parseJsonKeepingLargeIntegers(Buffer.from('{"id":706405506930370084,"n":1}'))
 * // { id: '706405506930370084', n: 1 }
 */
export function parseJsonKeepingLargeIntegers(body: Buffer): unknown {
  const value = parseJson(body);
  const text = body.toString('utf8');
  if (!LONG_DIGIT_RUN.test(text)) return value;
  const rewritten = quoteUnsafeIntegers(text);
  return rewritten === text ? value : (JSON.parse(rewritten) as unknown);
}

/**
 * Wraps every unsafe integer literal of a VALID JSON text in double quotes. Exported for tests.
 * Behaviour on invalid JSON is unspecified (callers validate first).
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = endOfString(text, i);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      i += 1;
      while (i < text.length && isNumberChar(text.charCodeAt(i))) i += 1;
      const token = text.slice(start, i);
      if (INTEGER_LITERAL.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copiedUpTo, start)}"${token}"`;
        copiedUpTo = i;
      }
    } else {
      i += 1;
    }
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** Index just past the closing quote of the string literal that opens at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i += 2;
    else if (c === 0x22 /* " */) return i + 1;
    else i += 1;
  }
  return i;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
