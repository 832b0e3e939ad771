/**
 * Timing and statistics for the benchmarks: percentiles, medians, and side-by-side runs whose
 * rounds interleave the variants so that the machine's noise falls on all of them alike.
 */
import { performance } from 'node:perf_hooks';

/** The p-th percentile (0..100) of the values, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (values: readonly number[]) => percentile(values, 50);

export interface Variant {
  readonly name: string;
  /** One operation; awaited. */
  readonly run: () => unknown;
}

export interface SideBySideOptions {
  /** Rounds; each round runs every variant once, in rotating order. */
  readonly rounds: number;
  /** Operations per variant per round (timed together, then divided). */
  readonly batch: number;
  /** Untimed warm-up rounds. @default 3 */
  readonly warmup?: number;
}

/**
 * Times variants side by side: in each round every variant runs `batch` operations, the order of
 * the variants rotating between rounds. Returns per variant the per-operation time (ms) of every round.
 */
export async function sideBySide(
  variants: readonly Variant[],
  options: SideBySideOptions,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
  const warmup = options.warmup ?? 3;
  for (let round = 0; round < warmup + options.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const variant = variants[(round + k) % variants.length] as Variant;
      const start = performance.now();
      for (let i = 0; i < options.batch; i++) await variant.run();
      const elapsed = (performance.now() - start) / options.batch;
      if (round >= warmup) samples.get(variant.name)?.push(elapsed);
    }
  }
  return samples;
}

/** `1.23 ms`, `456 µs`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

/** `min–max` of `values`, each written by `format`. */
export function span(values: readonly number[], format: (value: number) => string): string {
  return `${format(Math.min(...values))}–${format(Math.max(...values))}`;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** A Markdown table. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const lines = [header, header.map(() => '---'), ...rows.map((row) => row.map(String))];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
