import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { RedactingLogFormatter } from '../../core/log-formatter.ts';
import { isPersonalDataKey, redactLogAttributes, redactPersonalData } from '../../core/redact.ts';

// Characters that can border an email or a phone number in a log line. Not letters, digits or dashes:
// a number glued to those is indistinguishable from an id (documented in core/redact.ts).
const BORDER = fc.constantFrom(
  ' ',
  ',',
  ';',
  ':',
  '=',
  '"',
  "'",
  '/',
  '[',
  ']',
  '{',
  '}',
  '<',
  '>',
  '\n',
  '|',
  '!',
  '?',
  '(',
  ')',
);
const FILLER = fc.string({ unit: fc.constantFrom(...'abcXYZ019 _:/.,;=-+()@'.split('')), maxLength: 24 });

/** A phone number as people and systems write it: the digits and one of the usual layouts. */
const phoneNumber = fc
  .tuple(fc.stringMatching(/^[1-9]\d{0,2}$/), fc.stringMatching(/^[2-9]\d{6,11}$/))
  .filter(([country, national]) => country.length + national.length <= 15)
  .chain(([country, national]) => {
    const groups = national.match(/.{1,3}/g) ?? [national];
    return fc.constantFrom(
      `+${country}${national}`,
      `${country}${national}`,
      national,
      `+${country} ${groups.join(' ')}`,
      `+${country}-${groups.join('-')}`,
      `${national.slice(0, 3)}.${national.slice(3, 6)}.${national.slice(6)}`,
      `%2B${country}${national}`,
      `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`,
    );
  });

const surrounded = (value: fc.Arbitrary<string>) =>
  fc.tuple(FILLER, BORDER, value, BORDER, FILLER).map(([before, left, item, right, after]) => ({
    item,
    text: `${before}${left}${item}${right}${after}`,
  }));

describe('Redaction: text', () => {
  it.each([
    ['bounce for Ana.Lopez+tag@example.co.uk', 'bounce for [email]'],
    ['GET /profiles?email=Ava.Reyes%40Example.com', 'GET /profiles?email=[email]'],
    ['From=%2B13125550142&To=%2B14155550100', 'From=[phone]&To=[phone]'],
    ['call +1 (415) 555-0142 now', 'call [phone] now'],
    ['sms to +447700900123', 'sms to [phone]'],
    ['local 0612345678', 'local [phone]'],
    ['numbers +1 312 555 0142 415 555 0199', 'numbers [phone]'],
    ['invalid email "josé@exämple.de"', 'invalid email "[email]"'],
  ])('redacts %s', (line, redacted) => {
    expect(redactPersonalData(line)).toBe(redacted);
  });

  it.each([
    'POST /webhooks/shopify -> 200 in 12 ms',
    'listening on http://127.0.0.1:3000',
    'event 1b4e28ba-2fa1-11d2-883f-0016d3cca427 at 2024-05-01T12:00:00.000Z',
    'shopify:706405506930370084',
    'batch of 10: 9 processed, 1 reported failed',
    'p_94bb89c0ab8c9a072785ca1ce7',
    'arn:aws:sqs:us-east-1:123456789012:profile-writer',
  ])('leaves %s alone', (line) => {
    expect(redactPersonalData(line)).toBe(line);
  });

  it('never lets a generated email address through, whatever surrounds it', () => {
    fc.assert(
      fc.property(surrounded(fc.emailAddress()), ({ item, text }) => {
        const redacted = redactPersonalData(text);
        expect(redacted.toLowerCase()).not.toContain(item.toLowerCase());
        expect(redacted).not.toContain(item.slice(item.indexOf('@')));
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a generated phone number through, in any usual layout', () => {
    fc.assert(
      fc.property(surrounded(phoneNumber), ({ item, text }) => {
        expect(redactPersonalData(text)).not.toContain(item);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['GET /profiles/%2B44%2020%207946%200958 -> 400 in 3 ms', 'GET /profiles/[phone] -> 400 in 3 ms'],
    ['GET /profiles/bo.x%40ex%C3%A4mple.de -> 404 in 2 ms', 'GET /profiles/[email] -> 404 in 2 ms'],
    // Latin-1 escapes, as older forms send them.
    ['GET /profiles/bo.x%40ex%E4mple.de', 'GET /profiles/[email]'],
    // Encoded twice.
    ['GET /profiles/%252B44%2520%25207946%2520%25200958', 'GET /profiles/[phone]'],
    // Form encoding: `+` for a space.
    ['GET /profiles?phone=%2B44+20+7946+0958', 'GET /profiles?phone=[phone]'],
    ['GET /profiles?phone=+44+20+7946+0958&limit=5', 'GET /profiles?phone=[phone]&limit=5'],
    ['From=%2B13125550142&To=%2B14155550100', 'From=[phone]&To=[phone]'],
  ])('decodes before redacting: %s', (line, redacted) => {
    expect(redactPersonalData(line)).toBe(redacted);
  });

  it.each([
    'GET /local/events?since=2024-05-01T12%3A00%3A00Z&limit=5 -> 200 in 1 ms',
    'GET /things/a%20b%2Fc -> 200',
    'POST /webhooks/shopify?x=1%2B2 -> 200 in 12 ms',
  ])('leaves an encoded line without personal data as it was: %s', (line) => {
    expect(redactPersonalData(line)).toBe(line);
  });

  it('never lets a percent-encoded email or phone through, as a path segment or a query value', () => {
    const encoded = fc.tuple(fc.oneof(fc.emailAddress(), phoneNumber), fc.boolean()).map(([item, form]) => ({
      item,
      encoded: form ? encodeURIComponent(item).replace(/%20/g, '+') : encodeURIComponent(item),
    }));
    fc.assert(
      fc.property(
        encoded,
        fc.constantFrom('GET /profiles/', 'GET /profiles?q='),
        ({ item, encoded }, prefix) => {
          const redacted = redactPersonalData(`${prefix}${encoded} -> 404 in 2 ms`);
          expect(redacted).not.toContain(item);
          expect(redacted).not.toContain(encoded);
          expect(redacted).toMatch(/\[(email|phone)\] -> 404 in 2 ms$/);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Redaction: log attributes', () => {
  it.each([
    'email',
    'Email',
    'customer_email',
    'phone',
    'phoneNumber',
    'mobile_phone',
    'firstName',
    'first_name',
    'last-name',
    'name',
    'address',
    'shipping_address',
    'zip',
    'body',
  ])('treats %s as personal', (key) => {
    expect(isPersonalDataKey(key)).toBe(true);
  });

  it.each([
    'profileId',
    'correlationId',
    'eventId',
    'eventType',
    'connector',
    'topic',
    'reason',
    'function_name',
  ])('leaves %s readable', (key) => {
    expect(isPersonalDataKey(key)).toBe(false);
  });

  it('redacts personal keys whatever their value and scans text at any depth', () => {
    const error = new Error('kept for the formatter');
    expect(
      redactLogAttributes({
        profileId: 'p_1',
        firstName: 'Ava',
        address: { line1: '410 W Maple St', city: 'Chicago' },
        count: 4155550142,
        nested: [{ note: 'reply from +13125550142' }, 'ava@example.com'],
        url: new URL('https://shop.example/?email=ava%40example.com'),
        error,
      }),
    ).toEqual({
      profileId: 'p_1',
      firstName: '[redacted]',
      address: '[redacted]',
      count: 4155550142,
      nested: [{ note: 'reply from [phone]' }, '[email]'],
      url: 'https://shop.example/?email=[email]',
      error,
    });
  });

  it('breaks cycles instead of following them', () => {
    const looped: Record<string, unknown> = { note: 'ava@example.com' };
    looped.self = looped;
    expect(redactLogAttributes({ looped })).toEqual({ looped: { note: '[email]', self: '[circular]' } });
  });

  it('returns the very same object when there is nothing to redact (no copy on the hot path)', () => {
    const clean = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string({ unit: fc.constantFrom(...'abcdefgh _:/'.split('')) }),
        fc.integer(),
        fc.boolean(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('profileId', 'topic', 'reason', 'count', 'items'), tie('value')),
      ),
    })).value;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('connector', 'topic', 'stats'), clean), (attributes) => {
        expect(redactLogAttributes(attributes)).toBe(attributes);
      }),
    );
  });

  it('never lets a generated email or phone through, wherever it sits in the attributes', () => {
    const leaf = fc.oneof(fc.emailAddress(), phoneNumber);
    const placed = fc.tuple(
      fc.array(fc.constantFrom('data', 'items', 'detail', 'note'), { minLength: 1, maxLength: 5 }),
      leaf,
      FILLER,
    );
    fc.assert(
      fc.property(placed, ([path, item, filler]) => {
        let attributes: Record<string, unknown> = { note: `${filler} ${item}` };
        for (const key of path) attributes = { [key]: [attributes] };
        expect(JSON.stringify(redactLogAttributes(attributes))).not.toContain(item);
      }),
    );
  });
});

describe('RedactingLogFormatter', () => {
  let written: string[];
  let stdout: MockInstance;
  let stderr: MockInstance;
  beforeEach(() => {
    written = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
  });

  const lines = () => written.map((chunk) => JSON.parse(chunk) as Record<string, unknown>);
  const newLogger = (formatter?: RedactingLogFormatter) =>
    new Logger({ serviceName: 'test', logLevel: 'DEBUG', ...(formatter ? { logFormatter: formatter } : {}) });

  it('redacts the message, persistent keys, temporary keys and per-call attributes', () => {
    const logger = newLogger(new RedactingLogFormatter()).createChild({
      persistentKeys: { connector: 'twilio', contactEmail: 'noah.kim@example.net' },
    });
    logger.appendKeys({ correlationId: 'c-1', note: 'reply to +12065550187' });
    logger.debug('bounce for Noah.Kim@Example.net', { firstName: 'Noah', profileId: 'p_1' });
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'DEBUG',
        message: 'bounce for [email]',
        connector: 'twilio',
        contactEmail: '[redacted]',
        correlationId: 'c-1',
        note: 'reply to [phone]',
        firstName: '[redacted]',
        profileId: 'p_1',
      }),
    ]);
  });

  it('redacts error messages, stacks, causes and error properties but keeps the error class name', () => {
    const logger = newLogger(new RedactingLogFormatter());
    const cause = new Error('lookup of +13125550142 failed');
    const error = Object.assign(new TypeError('invalid email ava.reyes@example.com', { cause }), {
      details: { email: 'ava.reyes@example.com', hint: 'try ava@example.org' },
    });
    logger.error('translation failed', error);
    const [line] = written;
    expect(line).not.toMatch(/ava(\.reyes)?@example|3125550142/);
    expect(lines()[0]?.error).toMatchObject({
      name: 'TypeError',
      message: 'invalid email [email]',
      stack: expect.stringContaining('TypeError: invalid email [email]'),
      cause: { name: 'Error', message: 'lookup of [phone] failed' },
      details: { email: '[redacted]', hint: 'try [email]' },
    });
  });

  it("writes the same line as Powertools' own format when there is nothing to redact", () => {
    vi.useFakeTimers({ now: new Date('2025-06-10T12:00:00Z'), toFake: ['Date'] });
    try {
      for (const logger of [newLogger(), newLogger(new RedactingLogFormatter())]) {
        logger.addContext({
          functionName: 'profile-writer',
          memoryLimitInMB: '256',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:profile-writer',
          awsRequestId: 'r-1',
        } as Parameters<Logger['addContext']>[0]);
        logger.info('event applied', { profileId: 'p_1', changed: true, merged: [] });
      }
    } finally {
      vi.useRealTimers();
    }
    const [plain, redacting] = written;
    expect(redacting).toBe(plain);
    expect(Object.keys(lines()[0] ?? {})).toEqual(
      expect.arrayContaining(['level', 'message', 'timestamp', 'service', 'function_name', 'profileId']),
    );
  });
});
