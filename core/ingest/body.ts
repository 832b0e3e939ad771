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
 * Only when the text holds a run of 16+ digits, the integer literals beyond the safe range are
 * rewritten as JSON strings before the one `JSON.parse`. One sticky regular expression consumes
 * everything up to the next long digit run outside a string literal (string literals whole, as JSON's
 * lexer reads them), so the text is walked by the regular-expression engine, not in JavaScript, and
 * digits inside strings are never touched.
 *
 * The rewrite keeps invalid JSON invalid: it quotes only a whole integer token (no fraction,
 * exponent, or leading zero) right after `:`, `,`, `[`, whitespace or the start of the text and not
 * followed by `:`, i.e. one standing where a number is a value. Anywhere a number is a valid value
 * a string is too and nothing else changes, so the text parses after the rewrite exactly when it
 * parsed before (past a first error the scan may misread strings, but nothing after that error can
 * make the text valid), and the error a sender sees is the original text's error.
 */

/** A run of 16+ digits: the cheapest test that an unsafe integer might be present (2^53 has 16). */
const LONG_DIGIT_RUN = /\d{16}/;
/**
 * Everything up to the next candidate, in one match: runs of other characters, whole string literals
 * (honouring `\\` escapes, as JSON's lexer does), numbers of at most 15 digits, numbers with a leading
 * zero. It stops at a digit run of 16+ that starts with 1-9 (a candidate), at the opening quote of an
 * unterminated string, or at the end.
 */
const UP_TO_CANDIDATE =
  /(?:[^"0-9-]+|"[^"\\]*(?:\\.[^"\\]*)*"|-?[1-9][0-9]{0,14}(?![0-9])|-?0[0-9]*|-(?![0-9]))*/y;
/** A candidate: an optionally negative run of 16+ digits starting with 1-9. */
const LONG_INTEGER = /-?[1-9][0-9]{15,}/y;

/**
 * Parses a JSON body, turning integer literals beyond `Number.MAX_SAFE_INTEGER` into decimal strings
 * so that no id loses precision. Throws `ValidationError` (400) when the body is not JSON.
 *
 * @example
 * parseJsonKeepingLargeIntegers(Buffer.from('{"id":706405506930370084,"n":1}'))
 * // { id: '706405506930370084', n: 1 }
 */
export function parseJsonKeepingLargeIntegers(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (!LONG_DIGIT_RUN.test(text)) return parseJsonText(text);
  return parseJsonText(quoteUnsafeIntegers(text), text);
}

/**
 * Wraps every unsafe integer literal that stands as a value in double quotes; everything else is left
 * as it is (see above). Exported for tests.
 */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  let at = 0;
  while (at < text.length) {
    UP_TO_CANDIDATE.lastIndex = at;
    UP_TO_CANDIDATE.exec(text);
    const start = UP_TO_CANDIDATE.lastIndex;
    LONG_INTEGER.lastIndex = start;
    const match = LONG_INTEGER.exec(text);
    // The end, or the opening quote of a string that never ends: the text is not JSON (JSON.parse
    // says why), and scanning on from inside that string could only rescan it, once per quote.
    if (!match) break;
    const token = match[0];
    const end = start + token.length;
    at = end;
    if (
      !startsValue(text.charCodeAt(start - 1)) ||
      isNumberChar(text.charCodeAt(end)) ||
      nextNonSpace(text, end) === 0x3a /* : */ ||
      Number.isSafeInteger(Number(token))
    ) {
      continue;
    }
    out += `${text.slice(copiedUpTo, start)}"${token}"`;
    copiedUpTo = end;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** `JSON.parse` with a 400 for malformed text, reporting the error of `original` when given. */
function parseJsonText(text: string, original = text): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return parseJson(Buffer.from(original, 'utf8'));
  }
}

/** The character code of the first non-whitespace character at or after `from` (NaN at the end). */
function nextNonSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
    i += 1;
  }
  return Number.NaN;
}

/**
 * Whether a value may start right after this character: `:`, `,`, `[`, JSON whitespace, or nothing
 * (NaN, the start of the text). Anything else before a digit run (a digit, `.`, `e`, a `\\` inside an
 * unterminated string, ...) means it is not a whole value token.
 */
function startsValue(c: number): boolean {
  return (
    Number.isNaN(c) ||
    c === 0x3a ||
    c === 0x2c ||
    c === 0x5b ||
    c === 0x20 ||
    c === 0x0a ||
    c === 0x0d ||
    c === 0x09
  );
}

/** Characters that continue a number token: digits, `.`, `e`, `E`, `+`, `-`. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
