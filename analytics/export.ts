/**
 * `omnihub export`: a running local hub's profiles, identities and events, flattened and written as
 * Parquet (or CSV) files with a `manifest.json` saying what was exported, when, and what was not.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ExportFormat, type WrittenTable, writeTables } from './duckdb.ts';
import { emptyRows, flattenEvent, flattenProfileItems, UnreadableEventError } from './flatten.ts';
import { type ProgressListener, readLocalHub } from './local-source.ts';

export interface ExportOptions {
  readonly hubUrl: string;
  readonly dir: string;
  readonly format: ExportFormat;
  readonly progress?: ProgressListener;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

export interface ExportResult {
  readonly dir: string;
  readonly format: ExportFormat;
  readonly exportedAt: string;
  readonly tables: readonly WrittenTable[];
  readonly warnings: readonly string[];
}

export async function exportLocalHub(options: ExportOptions): Promise<ExportResult> {
  const dir = resolve(options.dir);
  const snapshot = await readLocalHub({
    hubUrl: options.hubUrl,
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const warnings = [...snapshot.warnings];
  const rows = { ...emptyRows(), ...flattenProfileItems(snapshot.items) };
  let unreadable = 0;
  for (const [index, archived] of snapshot.events.entries()) {
    try {
      rows.events.push(flattenEvent(archived.event, archived.receivedAt));
    } catch (error) {
      if (!(error instanceof UnreadableEventError)) throw error;
      unreadable++;
    }
    if ((index + 1) % 500 === 0) options.progress?.('flattening events', index + 1, snapshot.events.length);
  }
  if (unreadable > 0)
    warnings.push(`${unreadable} archived events are not canonical envelopes and were skipped`);
  const tables = await writeTables(rows, dir, options.format, (written) =>
    options.progress?.('writing tables', written.rows, undefined),
  );
  const exportedAt = (options.now?.() ?? new Date()).toISOString();
  const result: ExportResult = { dir, format: options.format, exportedAt, tables, warnings };
  writeFileSync(
    join(dir, 'manifest.json'),
    `${JSON.stringify(
      {
        exportedAt,
        hub: options.hubUrl,
        format: options.format,
        tables: Object.fromEntries(
          tables.map((t) => [t.table, { file: `${t.table}.${options.format}`, rows: t.rows }]),
        ),
        warnings,
      },
      null,
      2,
    )}\n`,
  );
  return result;
}
