/**
 * API Gateway (HTTP API, payload 2.0) conversions and the hub's log redaction, as pure functions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeBody,
  fromLambdaResult,
  isTextMediaType,
  joinHeaders,
  MalformedLambdaResponseError,
  parseQueryString,
  requestTime,
} from '../../local/apigateway/http-api.ts';
import { redactPersonalData } from '../../local/log.ts';

describe('API Gateway payload 2.0: request', () => {
  it.each([
    ['text/plain', true],
    ['text/csv; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/xml', true],
    ['application/javascript', true],
    ['application/x-www-form-urlencoded', false],
    ['application/vnd.api+json', false],
    ['application/octet-stream', false],
    [undefined, false],
  ])('treats Content-Type %s as text: %s', (contentType, text) => {
    expect(isTextMediaType(contentType)).toBe(text);
  });

  it('keeps the exact bytes for any body and content type (property)', () => {
    const contentType = fc.option(
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png'),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), contentType, (bytes, type) => {
        const encoded = encodeBody(Buffer.from(bytes), type);
        const decoded = Buffer.from(encoded.body ?? '', encoded.isBase64Encoded ? 'base64' : 'utf8');
        expect(decoded.equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });

  it('omits the body of an empty request', () => {
    expect(encodeBody(Buffer.alloc(0), 'application/json')).toEqual({ isBase64Encoded: false });
  });

  it('lower-cases header names and joins repeats with a bare comma', () => {
    expect(joinHeaders(['X-Sig', 'a', 'Content-Type', 'text/plain', 'x-sig', 'b'])).toEqual({
      'x-sig': 'a,b',
      'content-type': 'text/plain',
    });
  });

  it('decodes query parameters and joins repeated keys', () => {
    expect(parseQueryString('a=1&a=2&email=ana%40example.com&flag&plus=a+b')).toEqual({
      a: '1,2',
      email: 'ana@example.com',
      flag: '',
      plus: 'a+b',
    });
    expect(parseQueryString('')).toBeUndefined();
  });

  it('formats requestContext.time like API Gateway', () => {
    expect(requestTime(new Date('2020-03-12T19:03:58.123Z'))).toBe('12/Mar/2020:19:03:58 +0000');
  });
});

describe('API Gateway payload 2.0: response', () => {
  it.each([
    ['a string', 'hello', 200, 'hello'],
    ['an object without statusCode', { ok: true }, 200, '{"ok":true}'],
    ['a number', 42, 200, '42'],
    ['nothing', undefined, 200, ''],
  ])('takes %s as the body of a 200 JSON response', (_label, result, status, body) => {
    const response = fromLambdaResult(result);
    expect([response.statusCode, response.headers['content-type'], response.body.toString()]).toEqual([
      status,
      'application/json',
      body,
    ]);
  });

  it('reads a structured response: headers lower-cased, cookies, base64 body', () => {
    expect(
      fromLambdaResult({
        statusCode: 202,
        headers: { 'Content-Type': 'text/xml', 'X-Count': 3 },
        cookies: ['session=1'],
        body: Buffer.from('<ok/>').toString('base64'),
        isBase64Encoded: true,
      }),
    ).toEqual({
      statusCode: 202,
      headers: { 'content-type': 'text/xml', 'x-count': '3' },
      cookies: ['session=1'],
      body: Buffer.from('<ok/>'),
    });
  });

  it.each([
    [{ statusCode: '200' }],
    [{ statusCode: 99 }],
    [{ statusCode: 200, body: { not: 'a string' } }],
    [{ statusCode: 200, headers: { a: { nested: true } } }],
    [{ statusCode: 200, cookies: 'a=1' }],
  ])('refuses the malformed response %j', (result) => {
    expect(() => fromLambdaResult(result)).toThrow(MalformedLambdaResponseError);
  });
});

describe('Hub log redaction', () => {
  it.each([
    ['bounce for Ana.Lopez+tag@example.co.uk', 'bounce for [email]'],
    ['call +1 (415) 555-0142 now', 'call [phone] now'],
    ['sms to +447700900123', 'sms to [phone]'],
    ['local 0612345678', 'local [phone]'],
  ])('redacts %s', (line, redacted) => {
    expect(redactPersonalData(line)).toBe(redacted);
  });

  it.each([
    'POST /webhooks/shopify -> 200 in 12 ms',
    'listening on http://127.0.0.1:3000',
    'event 1b4e28ba-2fa1-11d2-883f-0016d3cca427 at 2024-05-01T12:00:00Z',
    'batch of 10: 9 processed, 1 reported failed',
  ])('leaves %s alone', (line) => {
    expect(redactPersonalData(line)).toBe(line);
  });
});
