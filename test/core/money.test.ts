import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyDigits, money, toMinorUnits } from '../../core/money.ts';

describe('Money', () => {
  it.each([
    ['199.00', 'USD', 19900],
    ['0.10', 'USD', 10],
    ['10', 'USD', 1000],
    ['1500', 'JPY', 1500],
    ['1.234', 'KWD', 1234],
    ['-5.5', 'EUR', -550],
    ['0.005', 'USD', 1],
    ['0.004', 'USD', 0],
    ['.5', 'USD', 50],
  ])('%s %s is %d minor units', (decimal, currency, expected) => {
    expect(toMinorUnits(decimal, currency)).toBe(expected);
  });

  it.each(['', 'abc', '1,00', '1.2.3', '.'])('rejects %j', (decimal) => {
    expect(() => toMinorUnits(decimal, 'USD')).toThrow(RangeError);
  });

  it('knows currency exponents from ICU', () => {
    expect([currencyDigits('USD'), currencyDigits('JPY'), currencyDigits('BHD')]).toEqual([2, 0, 3]);
  });

  it('upper-cases the currency', () => {
    expect(money('1.00', 'usd')).toEqual({ amount: 100, currency: 'USD' });
  });

  it('is exact where floats are not: sums of cents never drift', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 50 }), (cents) => {
        const total = cents.reduce((sum, value) => sum + toMinorUnits((value / 100).toFixed(2), 'USD'), 0);
        expect(total).toBe(cents.reduce((sum, value) => sum + value, 0));
      }),
    );
  });
});
