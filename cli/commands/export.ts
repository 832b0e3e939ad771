/**
 * `omnihub export [--format parquet|csv] [--out dir] [--api url]`: the local hub's profiles,
 * identities, consent, merges, orders and canonical events as files for analysts (docs/analytics.md).
 */
import { parseArgs } from 'node:util';
import type { ExportFormat } from '../../analytics/duckdb.ts';
import { exportLocalHub } from '../../analytics/export.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { ProgressBar, renderTable } from '../format.ts';
import { API_HELP, API_OPTIONS, apiUrl } from '../hub-client.ts';

export const DEFAULT_EXPORT_DIR = 'omnihub-export';

const USAGE = `Usage:
  omnihub export [--format parquet|csv] [--out <dir>] [--api <url>]

Reads the running local hub (npm start) and writes one file per table: events, profiles,
identities, consent, merges, profile_orders (the orders view joins them), plus manifest.json.
Query them with \`omnihub sql\`, DuckDB or any Parquet reader; columns are in docs/analytics.md.

Options:
  --format <f>  parquet (default) or csv
  --out <dir>   where to write (default: ./${DEFAULT_EXPORT_DIR}); files there are replaced
  --api <url>   ${API_HELP}; it must be a local hub

The files hold personal data (emails and phone numbers in identities): keep them out of git.

Examples:
  npx omnihub export
  npx omnihub export --format csv --out /tmp/omnihub`;

/** The local hub to read; the deployed API has no export (query Athena there). */
export function localHubUrl(values: { readonly api?: string; readonly hub?: string }, io: CliIo): string {
  const url = apiUrl(values, io);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--api ${JSON.stringify(url)} is not a URL`);
  }
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
    throw new UsageError(
      `${parsed.origin} is not a local hub: export and sql read the local hub; in AWS query the Athena workgroup (docs/analytics.md)`,
    );
  }
  return url;
}

export function parseFormat(value: string | undefined): ExportFormat {
  if (value === undefined || value === 'parquet') return 'parquet';
  if (value === 'csv') return 'csv';
  throw new UsageError(`--format must be parquet or csv, not ${JSON.stringify(value)}`);
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Write the profiles, identities and events of the local hub as Parquet or CSV files',
  usage: USAGE,
  async run(args, io) {
    let values: { format?: string; out?: string; api?: string; hub?: string };
    try {
      ({ values } = parseArgs({
        args: [...args],
        options: { format: { type: 'string' }, out: { type: 'string' }, ...API_OPTIONS },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      throw asUsageError(error);
    }
    const format = parseFormat(values.format);
    const hubUrl = localHubUrl(values, io);
    const progress = new ProgressBar(io);
    const result = await exportLocalHub({
      hubUrl,
      dir: values.out ?? DEFAULT_EXPORT_DIR,
      format,
      progress: (step, done, total) => progress.update(step, { done, total }),
    });
    progress.done(`exported to ${result.dir}`);
    for (const warning of result.warnings) io.err(`warning: ${warning}`);
    io.out(
      renderTable(
        result.tables.map((t) => [t.table, `${t.rows} rows`, t.file]),
        undefined,
        ['left', 'right', 'left'],
      ),
    );
    return 0;
  },
};
