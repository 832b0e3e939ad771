/**
 * Money as integer minor units plus an ISO 4217 currency; never floats.
 *
 * Vendors send decimal strings ("199.00", Shopify) or minor units already (Square). Conversion is
 * done on the decimal string itself so that "0.1" + "0.2" style float errors cannot occur.
 */
import * as z from 'zod/mini';
import { described } from './zod-messages.ts';

export const Currency = described(
  z.string().check(z.regex(/^[A-Z]{3}$/, 'ISO 4217 currency code, upper case')),
  'ISO 4217 currency code',
);

export const Money = described(
  z.object({
    amount: described(
      z.number().check(z.int()),
      'Integer amount in the currency minor unit (cents for USD, yen for JPY)',
    ),
    currency: Currency,
  }),
  'An amount of money in integer minor units',
);
export type Money = z.infer<typeof Money>;

const digitsCache = new Map<string, number>();

/** Number of minor-unit digits of a currency (USD 2, JPY 0, KWD 3), from the runtime's ICU data. */
export function currencyDigits(currency: string): number {
  const cached = digitsCache.get(currency);
  if (cached !== undefined) return cached;
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
  } catch {
    // Unknown code: keep the common default of 2 rather than failing a whole delivery.
  }
  digitsCache.set(currency, digits);
  return digits;
}

/**
 * Converts a decimal amount to integer minor units exactly, rounding half away from zero when the
 * input has more decimals than the currency allows.
 *
 * @example toMinorUnits('199.00', 'USD') // 19900
 * @example toMinorUnits('1500', 'JPY') // 1500
 */
export function toMinorUnits(decimal: string | number, currency: string): number {
  const text = typeof decimal === 'number' ? numberToPlainString(decimal) : decimal.trim();
  const match = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    throw new RangeError(`not a decimal amount: ${JSON.stringify(text)}`);
  }
  const sign = match[1] === '-' ? -1 : 1;
  const whole = match[2] || '0';
  const fraction = match[3] ?? '';
  const digits = currencyDigits(currency);
  const kept = fraction.slice(0, digits).padEnd(digits, '0');
  let units = BigInt(whole) * 10n ** BigInt(digits) + BigInt(kept || '0');
  const next = fraction.charCodeAt(digits);
  if (next >= 53 /* '5' */ && next <= 57) units += 1n;
  const result = Number(units) * sign;
  if (!Number.isSafeInteger(result)) throw new RangeError(`amount out of range: ${text}`);
  return result === 0 ? 0 : result;
}

/** Builds a {@link Money} from a decimal string or number. */
export function money(decimal: string | number, currency: string): Money {
  const code = currency.toUpperCase();
  return { amount: toMinorUnits(decimal, code), currency: code };
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // toFixed(10) avoids exponent notation; trailing zeros are harmless for the parser.
  return value.toFixed(10);
}
