/**
 * How `omnihub sql` prints a result: an aligned table for people, CSV (RFC 4180) or JSON for scripts;
 * and the progress bar `omnihub export` draws on stderr.
 */
import type { QueryResult } from './duckdb.ts';

type Value = string | number | boolean | null;

function display(value: Value): string {
  return value === null ? 'NULL' : String(value);
}

/** Columns padded to their widest value; numbers right-aligned; a row count below. */
export function formatTable(result: QueryResult): string {
  const cells = result.rows.map((row) => row.map(display));
  const widths = result.columns.map((name, index) =>
    Math.max(name.length, ...cells.map((row) => row[index]?.length ?? 0)),
  );
  const numeric = result.columns.map((_name, index) =>
    result.rows.every((row) => row[index] === null || typeof row[index] === 'number'),
  );
  const line = (values: readonly string[]) =>
    values
      .map((value, index) =>
        numeric[index] ? value.padStart(widths[index] ?? 0) : value.padEnd(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  return [
    line(result.columns),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.map((row) => line(row)),
    count,
  ].join('\n');
}

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

/**
 * A progress line for stderr: redrawn in place on a terminal (`\r`), one line per step otherwise so
 * logs stay readable.
 */
export class ProgressBar {
  private lastStep = '';
  private drawn = false;

  constructor(
    private readonly write: (text: string) => void,
    private readonly interactive: boolean,
    private readonly width = 24,
  ) {}

  update(step: string, done: number, total?: number): void {
    const counts = total === undefined ? `${done}` : `${done}/${total}`;
    if (!this.interactive) {
      if (step !== this.lastStep) this.write(`${step}...\n`);
      this.lastStep = step;
      return;
    }
    const ratio = total ? Math.min(1, done / total) : undefined;
    const bar =
      ratio === undefined ? '' : `[${'#'.repeat(Math.round(ratio * this.width)).padEnd(this.width, '.')}] `;
    this.write(`\r\u001b[2K${bar}${step} ${counts}`);
    this.lastStep = step;
    this.drawn = true;
  }

  /** Removes the bar (terminal) without a message. */
  clear(): void {
    if (this.drawn) this.write('\r\u001b[2K');
    this.drawn = false;
  }

  done(message: string): void {
    this.write(this.drawn ? `\r\u001b[2K${message}\n` : `${message}\n`);
    this.drawn = false;
  }
}
