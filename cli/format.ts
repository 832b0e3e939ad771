/** Plain-text output for people: aligned tables and money in major units. */
import { currencyDigits } from '../core/money.ts';

/** Rows aligned in columns; the header row is underlined when given. */
export function renderTable(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = all.map(line);
  if (header) lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  return lines.join('\n');
}

/** `1234567, 'USD'` -> `USD 12,345.67`; `500, 'JPY'` -> `JPY 500`. */
export function formatMoney(minorUnits: number, currency: string): string {
  const digits = currencyDigits(currency);
  const sign = minorUnits < 0 ? '-' : '';
  const absolute = Math.abs(minorUnits);
  const whole = Math.floor(absolute / 10 ** digits);
  const fraction = digits > 0 ? `.${String(absolute % 10 ** digits).padStart(digits, '0')}` : '';
  return `${currency} ${sign}${whole.toLocaleString('en-US')}${fraction}`;
}
