/**
 * Focused tests of the local EventBridge pattern matcher, beyond the AWS conformance cases: compile-once
 * reuse, `$or` expansion, numeric edges, arrays, error shape, and properties checked with fast-check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
} from '../local/eventbridge/pattern.ts';

/** The reason AWS would give for rejecting `pattern`, or undefined when it is valid. */
function rejection(pattern: unknown): string | undefined {
  try {
    validateEventPattern(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidEventPatternError) return error.reason;
    throw error;
  }
}

describe('compileEventPattern', () => {
  it('compiles once and answers for many events without being changed by them', () => {
    const matches = compileEventPattern({ source: ['shop'], detail: { total: [{ numeric: ['>', 100] }] } });
    const events = [
      { source: 'shop', detail: { total: 150 } },
      { source: 'shop', detail: { total: 50 } },
      { source: 'crm', detail: { total: 150 } },
      { source: 'shop', detail: 'not an object' },
      { source: 'shop' },
      null,
      'a string event',
      [],
    ];
    const first = events.map((event) => matches(event));
    expect(first).toEqual([true, false, false, false, false, false, false, false]);
    expect(events.map((event) => matches(event))).toEqual(first);
  });

  it('accepts the JSON text the AWS API takes, with the last duplicate key winning', () => {
    const matches = compileEventPattern('{"source": ["a"], "source": ["b"]}');
    expect(matches({ source: 'b' })).toBe(true);
    expect(matches({ source: 'a' })).toBe(false);
    expect(() => compileEventPattern('{"source": ')).toThrow(InvalidEventPatternError);
  });

  it('rejects JSON text in validateEventPattern, which asserts a parsed object', () => {
    expect(rejection('{"source": ["a"]}')).toBe('Filter is not an object');
    expect(rejection([])).toBe('Filter is not an object');
    expect(rejection({})).toBe('Empty objects are not allowed');
  });

  it('reports errors the way AWS does', () => {
    const error = (() => {
      try {
        compileEventPattern({ detail: { state: [{ NUMERIC: ['=', 5] }] } });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: 'InvalidEventPatternException',
      reason: 'Unrecognized match type NUMERIC',
      message: 'Event pattern is not valid. Reason: Unrecognized match type NUMERIC',
    });
  });
});

describe('$or', () => {
  const pattern = {
    source: ['shop'],
    $or: [
      { detail: { channel: ['email'] } },
      {
        detail: { channel: ['sms'] },
        $or: [{ detail: { country: ['NL'] } }, { detail: { optIn: [true] } }],
      },
    ],
  };

  it('nests, keeping the fields outside it ANDed with every branch', () => {
    const matches = compileEventPattern(pattern);
    expect(matches({ source: 'shop', detail: { channel: 'email' } })).toBe(true);
    expect(matches({ source: 'shop', detail: { channel: 'sms', country: 'NL' } })).toBe(true);
    expect(matches({ source: 'shop', detail: { channel: 'sms', optIn: true } })).toBe(true);
    expect(matches({ source: 'shop', detail: { channel: 'sms', country: 'BE' } })).toBe(false);
    expect(matches({ source: 'crm', detail: { channel: 'email' } })).toBe(false);
  });

  it('works inside a nested object and in parallel with another $or', () => {
    const matches = compileEventPattern({
      $or: [{ source: ['a'] }, { source: ['b'] }],
      detail: { $or: [{ x: [1] }, { y: [2] }] },
    });
    expect(matches({ source: 'b', detail: { y: 2 } })).toBe(true);
    expect(matches({ source: 'b', detail: { y: 3 } })).toBe(false);
    expect(matches({ source: 'c', detail: { x: 1 } })).toBe(false);
  });

  it('lets a branch overwrite a path set before the $or, as Event Ruler compiles it', () => {
    const matches = compileEventPattern({ a: ['1'], $or: [{ a: ['2'] }, { b: ['3'] }] });
    expect(matches({ a: '2' })).toBe(true);
    expect(matches({ a: '1', b: '3' })).toBe(true);
    expect(matches({ a: '1' })).toBe(false);
  });

  it('needs two or more objects, and no operator names as fields', () => {
    expect(rejection({ $or: [{ a: ['1'] }] })).toBe(
      'There must have at least 2 Objects in $or relationship.',
    );
    expect(rejection({ $or: [{ a: ['1'] }, 'b'] })).toBe(
      'Only JSON object is allowed in array of $or relationship.',
    );
  });

  it('falls back to "$or" as an ordinary field name when it is not the operator', () => {
    const matches = compileEventPattern({ $or: { a: ['1'] } });
    expect(matches({ $or: { a: '1' } })).toBe(true);
    expect(matches({ a: '1' })).toBe(false);
    // A legacy list of match expressions under a field named "$or".
    expect(compileEventPattern({ $or: [{ prefix: 'x' }, { numeric: ['>', 1] }] })({ $or: 'xyz' })).toBe(true);
  });
});

describe('numeric', () => {
  const number = (operand: unknown[]) => compileEventPattern({ n: [{ numeric: operand }] });

  it('compares numbers as numbers, never strings', () => {
    expect(matchesEventPattern({ n: [300] }, JSON.parse('{"n": 3.0e2}'))).toBe(true);
    expect(matchesEventPattern({ n: [{ numeric: ['=', 3.0e2] }] }, { n: 300 })).toBe(true);
    expect(number(['=', 0])(JSON.parse('{"n": -0}'))).toBe(true);
    expect(number(['>', 100])({ n: '300' })).toBe(false);
    expect(number(['>', 100])({ n: null })).toBe(false);
    expect(number(['>', 100])({ n: [5, 500] })).toBe(true);
  });

  it('honours open and closed bounds', () => {
    const open = number(['>', 0, '<', 5]);
    const closed = number(['>=', 0, '<=', 5]);
    expect([0, 5, 2.5].map((n) => open({ n }))).toEqual([false, false, true]);
    expect([0, 5, 5.000001].map((n) => closed({ n }))).toEqual([true, true, false]);
    expect(number(['<=', -1e-6])({ n: -1e-6 })).toBe(true);
  });

  it('rejects malformed ranges with the reason AWS gives', () => {
    expect(rejection({ n: [{ numeric: ['>', 5, '<', 5] }] })).toBe('Bottom must be less than top');
    expect(rejection({ n: [{ numeric: ['<', 5, '>', 1] }] })).toBe('Too many elements in numeric expression');
    expect(rejection({ n: [{ numeric: ['>', 1, '>', 5] }] })).toBe('Bad numeric range operator: >');
    expect(rejection({ n: [{ numeric: ['>', 1, '<', 5, 6] }] })).toBe(
      'Too many terms in numeric range expression',
    );
    expect(rejection({ n: [{ numeric: ['=', '1'] }] })).toBe('Value of equals must be numeric');
    expect(rejection({ n: [{ numeric: [] }] })).toBe('Invalid member in numeric match: ]');
    expect(rejection({ n: [{ numeric: ['~', 1] }] })).toBe('Unrecognized numeric range operator: ~');
    expect(rejection({ n: [{ numeric: ['>', Number.POSITIVE_INFINITY] }] })).toBe(
      'Value of > must be numeric',
    );
  });
});

describe('arrays, paths and exists', () => {
  const employees = {
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
  };

  it('matches fields of one pattern object within one array element only', () => {
    expect(matchesEventPattern({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, employees)).toBe(
      true,
    );
    expect(matchesEventPattern({ employees: { firstName: ['Anna'], lastName: ['Doe'] } }, employees)).toBe(
      false,
    );
  });

  it('treats dotted names and nesting as the same path, on both sides', () => {
    expect(matchesEventPattern({ detail: { 'a.b': ['x'] } }, { detail: { a: { b: 'x' } } })).toBe(true);
    expect(matchesEventPattern({ detail: { a: { b: ['x'] } } }, { 'detail.a': { b: 'x' } })).toBe(true);
  });

  it('applies exists to leaves only', () => {
    const exists = compileEventPattern({ d: { f: [{ exists: true }] } });
    const absent = compileEventPattern({ d: { f: [{ exists: false }] } });
    const cases = [
      { d: { f: null } },
      { d: { f: [] } },
      { d: { f: { g: 1 } } },
      { d: {} },
      { d: 'text' },
      {},
    ];
    expect(cases.map(exists)).toEqual([true, false, false, false, false, false]);
    expect(cases.map(absent)).toEqual([false, true, true, true, true, true]);
  });

  it('needs a present value for anything-but', () => {
    const notInit = compileEventPattern({ state: [{ 'anything-but': { prefix: 'init' } }] });
    expect(
      [{ state: 'running' }, { state: 'init-1' }, { state: 7 }, { state: null }, {}].map(notInit),
    ).toEqual([true, false, true, true, false]);
  });
});

describe('wildcard, cidr and case-insensitive operators', () => {
  it('treats only * as special, with \\ escaping it', () => {
    const star = compileEventPattern({ f: [{ wildcard: 'a\\*b*' }] });
    expect(['a*b', 'a*bcd', 'axb'].map((f) => star({ f }))).toEqual([true, true, false]);
    expect(rejection({ f: [{ wildcard: 'a\\b' }] })).toBe('Invalid escape character at pos 2');
    expect(rejection({ f: [{ wildcard: 'ab\\' }] })).toBe('Invalid escape character at pos 3');
    expect(rejection({ f: [{ wildcard: 'é**' }] })).toBe('Consecutive wildcard characters at pos 3');
  });

  it('refuses wildcard sets too complex for AWS, per field', () => {
    const files = (...globs: string[]) => ({ key: globs.map((wildcard) => ({ wildcard })) });
    expect(rejection(files('*/datasync/*.bif', '*/datasync/*.tif'))).toBeUndefined();
    expect(
      rejection(files('*/datasync/*.bif', '*/datasync/*.tif', '*/datasync/*.svs', '*/datasync/*.png')),
    ).toMatch(/^Rule is too complex/);
  });

  it('matches cidr ranges for both address families', () => {
    const v4 = compileEventPattern({ ip: [{ cidr: '10.0.0.0/31' }] });
    expect(['10.0.0.0', '10.0.0.1', '10.0.0.2', 'not-an-ip'].map((ip) => v4({ ip }))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const v6 = compileEventPattern({ ip: [{ cidr: '2001:db8::/32' }] });
    expect(v6({ ip: '2001:0db8:ffff::1' })).toBe(true);
    expect(v6({ ip: '10.0.0.1' })).toBe(false);
    expect(rejection({ ip: [{ cidr: '10.0.0.0/32' }] })).toBe('IPv4 mask bits must be < 32');
    expect(rejection({ ip: [{ cidr: '10.0.0.999/8' }] })).toBe('Invalid IP address: 10.0.0.999');
  });

  it('folds case per character, for equality, prefix and suffix', () => {
    expect(matchesEventPattern({ s: [{ 'equals-ignore-case': 'StraSSe' }] }, { s: 'strasse' })).toBe(true);
    expect(
      matchesEventPattern({ s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { s: 'eVeNtBridge' }),
    ).toBe(true);
    expect(matchesEventPattern({ s: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { s: 'A.PnG' })).toBe(
      true,
    );
    expect(matchesEventPattern({ s: [{ 'equals-ignore-case': 'ß' }] }, { s: 'SS' })).toBe(true);
  });
});

describe('properties', () => {
  // A string Ruler reads as an IP address matches its other spellings too, so exact match and
  // anything-but are not exact mirrors there; keep the property to the ordinary strings it is about.
  const notIpShaped = (text: string) =>
    !/^[0-9.]+$/.test(text) && !/^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/.test(text);
  const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter(notIpShaped);

  it('anything-but [x] is the negation of [x] for a present string field', () => {
    fc.assert(
      fc.property(
        text.chain((x) => fc.tuple(fc.constant(x), fc.oneof(fc.constant(x), text))),
        ([x, value]) => {
          const event = { detail: { field: value } };
          const exact = matchesEventPattern({ detail: { field: [x] } }, event);
          const negated = matchesEventPattern({ detail: { field: [{ 'anything-but': [x] }] } }, event);
          expect(negated).toBe(!exact);
        },
      ),
    );
  });

  it('prefix and suffix agree with startsWith and endsWith', () => {
    fc.assert(
      fc.property(text, text, (affix, value) => {
        expect(matchesEventPattern({ f: [{ prefix: affix }] }, { f: value })).toBe(value.startsWith(affix));
        expect(matchesEventPattern({ f: [{ suffix: affix }] }, { f: value })).toBe(value.endsWith(affix));
      }),
    );
  });
});
