import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.ts';
import { parseJsonKeepingLargeIntegers, quoteUnsafeIntegers } from '../../core/ingest/body.ts';

/** Whether `JSON.parse` accepts the text: the reference for what is valid JSON. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Text pieces that put long integers in every lexical position, valid or not. */
const piece = fc.constantFrom(
  '12345678901234567890',
  '-9007199254740993',
  '9007199254740993',
  '01234567890123456789',
  '1.12345678901234567890',
  '1e12345678901234567',
  '"',
  '\\',
  '\\"',
  ':',
  ',',
  '{',
  '}',
  '[',
  ']',
  ' ',
  '\n',
  '"k"',
  '"v 12345678901234567890"',
  'true',
  '-',
  '0',
);

describe('Lossless JSON of vendor bodies', () => {
  it('keeps exactly the texts JSON.parse accepts (mutated and random texts, property)', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 14 }), (pieces) => {
        const text = pieces.join('');
        const parse = () => parseJsonKeepingLargeIntegers(Buffer.from(text));
        if (isJson(text)) expect(parse).not.toThrow();
        else expect(parse).toThrow(ValidationError);
      }),
      { numRuns: 30_000 },
    );
  });

  it.each([
    ['a number where a key belongs', '{12345678901234567890:1}'],
    ['a leading zero', '{"a":01234567890123456789}'],
    ['an unterminated string', '{"a":"x 12345678901234567890 y}'],
    ['an unterminated string before a colon', '{"a 12345678901234567890: 1}'],
    ['an escape before the digits of an unterminated string', '"\\12345678901234567890'],
  ])('refuses %s, as JSON.parse does', (_name, text) => {
    expect(isJson(text)).toBe(false);
    expect(() => parseJsonKeepingLargeIntegers(Buffer.from(text))).toThrow(ValidationError);
  });

  it('refuses a string that never ends, full of escaped quotes, reading it once', () => {
    // Rescanning from every escaped quote would take minutes here (it once did); one pass takes ms.
    const text = `{"id":12345678901234567890,"note":"${'\\"a'.repeat(200_000)}`;
    expect(isJson(text)).toBe(false);
    expect(() => parseJsonKeepingLargeIntegers(Buffer.from(text))).toThrow(ValidationError);
  });

  it("reports the sender's text's own parse error", () => {
    const text = '{"id":12345678901234567890,}';
    let reference = '';
    try {
      JSON.parse(text);
    } catch (error) {
      reference = (error as Error).message;
    }
    expect(() => parseJsonKeepingLargeIntegers(Buffer.from(text))).toThrow(reference);
  });

  it('leaves texts without unsafe integers as they are', () => {
    const text = '{"a":9007199254740991,"b":"12345678901234567890","c":[1.5e300]}';
    expect(quoteUnsafeIntegers(text)).toBe(text);
  });
});
