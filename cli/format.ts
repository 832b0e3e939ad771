/**
 * Plain-text output for people, the same in every command: aligned tables, money in major units, and
 * the progress bar on stderr.
 */
import { currencyDigits } from '../core/money.ts';
import type { CliIo } from './command.ts';

export type Alignment = 'left' | 'right';

/**
 * Rows aligned in columns, two spaces apart; the header row is underlined when given. Columns are
 * left-aligned unless `align` says `right` (numbers).
 *
 * @example
 * renderTable([['profiles', '5'], ['events', '120']], ['table', 'rows'], ['left', 'right']);
 * // table     rows
 * // --------  ----
 * // profiles     5
 * // events     120
 */
export function renderTable(
  rows: readonly (readonly string[])[],
  header?: readonly string[],
  align: readonly Alignment[] = [],
): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        if (align[index] === 'right') return cell.padStart(width);
        return index === row.length - 1 ? cell : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const lines = all.map(line);
  if (header) lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  return lines.join('\n');
}

/** Every line indented by two spaces (a table under a heading). */
export function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
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

/** How far a step is. */
export interface Progress {
  /** Items done so far: shown as `done`, or `done/total`. */
  readonly done?: number;
  readonly total?: number;
  /** How far, from 0 to 1, when it is not a count (a replay through its window). @default done/total */
  readonly fraction?: number;
  /** Words after the counts. */
  readonly detail?: string;
}

/** Moves up to the line the bar was drawn on and clears it. */
const REDRAW = '\u001b[1A\u001b[2K';

/**
 * The progress of a long command, on stderr so stdout stays for results.
 *
 * On a terminal it is one line redrawn in place: `[#########---------------------]  30% step 3/10
 * detail`. Otherwise (a log, a pipe) it writes a plain line, `step 3/10 detail` (or `step detail (30%)`
 * without counts), when the step changes and each time it is a tenth further, so a log shows progress
 * without a line per item.
 *
 * @example
 * const progress = new ProgressBar(io);
 * progress.update('redriven', { done: 10, total: 25 });
 * progress.done('Redrove 25 message(s).');
 */
export class ProgressBar {
  #shown = '';
  #drawn = false;
  #step: string | undefined;
  #tenth = -1;

  constructor(
    private readonly io: Pick<CliIo, 'err' | 'interactive'>,
    private readonly width = 30,
  ) {}

  update(step: string, progress: Progress = {}): void {
    const { done, total, detail } = progress;
    const counts = done === undefined ? '' : total === undefined ? `${done}` : `${done}/${total}`;
    const text = [step, counts, detail].filter(Boolean).join(' ');
    const raw = progress.fraction ?? (done !== undefined && total ? done / total : undefined);
    const fraction = raw === undefined ? undefined : Math.min(1, Math.max(0, raw));
    const percent = fraction === undefined ? '' : `${Math.floor(fraction * 100)}%`;
    if (this.io.interactive) {
      const filled = Math.round((fraction ?? 0) * this.width);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${percent.padStart(4)} `;
      this.#draw(fraction === undefined ? text : `${bar}${text}`);
      return;
    }
    const tenth = fraction === undefined ? -1 : Math.floor(fraction * 10);
    const line = counts || !percent ? text : `${text} (${percent})`;
    if ((step === this.#step && tenth <= this.#tenth) || line === this.#shown) return;
    this.#step = step;
    this.#tenth = tenth;
    this.#shown = line;
    this.io.err(line);
  }

  /** Takes the bar off the terminal, leaving nothing in its place. */
  clear(): void {
    if (this.#drawn) this.io.err(`${REDRAW}\u001b[1A`);
    this.#drawn = false;
    this.#shown = '';
  }

  /** Replaces the bar with a closing line. */
  done(message: string): void {
    this.io.err(this.#drawn ? `${REDRAW}${message}` : message);
    this.#drawn = false;
    this.#shown = '';
  }

  #draw(line: string): void {
    if (line === this.#shown) return;
    this.io.err(this.#drawn ? `${REDRAW}${line}` : line);
    this.#shown = line;
    this.#drawn = true;
  }
}
