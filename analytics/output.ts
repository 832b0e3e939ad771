/** How `omnihub sql` prints a result for scripts: CSV (RFC 4180) or JSON. */
import type { QueryResult } from './duckdb.ts';

type Value = string | number | boolean | null;

function csvField(value: Value): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatCsv(result: QueryResult): string {
  return [result.columns, ...result.rows].map((row) => row.map(csvField).join(',')).join('\r\n');
}

/** An array of objects, one per row, keys in column order. */
export function formatJson(result: QueryResult): string {
  return JSON.stringify(
    result.rows.map((row) =>
      Object.fromEntries(result.columns.map((name, index) => [name, row[index] ?? null])),
    ),
    null,
    2,
  );
}
