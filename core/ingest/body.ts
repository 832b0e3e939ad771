/**
 * Body parsers for verified webhook bodies. Malformed input is the sender's mistake: a 400 that says
 * what is wrong, never a 500.
 */
import { ValidationError } from '../errors.ts';

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ValidationError(
      `body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`,
      'malformed_body',
    );
  }
}

/**
 * Parses `application/x-www-form-urlencoded`. A repeated name keeps all its values, in order.
 */
export function parseForm(body: Buffer): Map<string, string[]> {
  const form = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = form.get(name);
    if (values) values.push(value);
    else form.set(name, [value]);
  }
  return form;
}

/*
 * Lossless JSON for vendor ids. Shopify and HubSpot write 64-bit ids as bare JSON numbers
 * (`"id":706405506930370084`); above 2^53 `JSON.parse` silently rounds them to a different id.
 * Parse once with `JSON.parse` (validating the text), then, only when the text holds an integer
 * literal beyond the safe range, rewrite those literals as JSON strings and parse again. Outside
 * string literals a `-` or a digit always starts a number token made of `0-9 . e E + -` only, so a
 * scanner that skips strings (honouring `\` escapes) finds every number exactly.
 */

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
