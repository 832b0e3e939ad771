/**
 * DuckDB side of the local analytics: writes the tables as Parquet or CSV files, and opens a session
 * whose views (`profiles`, `identities`, `events`, `orders`, `consent`, ...) read those files.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { TableRows } from './flatten.ts';
import { toJsonLine } from './flatten.ts';
import { type TableDefinition, tables } from './schema.ts';
import { views } from './views.ts';

export type ExportFormat = 'parquet' | 'csv';

/**
 * A new in-memory database. DuckDB is loaded on first use: it is an optional peer of the npm package
 * (a native module of some 70 MB), needed only by `omnihub sql` and `omnihub export`.
 */
async function openDatabase(): Promise<DuckDBInstance> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch (error) {
    throw new Error('DuckDB is not installed: `npm install @duckdb/node-api` for omnihub sql and export', {
      cause: error,
    });
  }
  return duckdb.DuckDBInstance.create(':memory:');
}

export interface WrittenTable {
  readonly table: string;
  readonly file: string;
  readonly rows: number;
}

/** A string literal for DuckDB SQL. */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function columnsSpec(table: TableDefinition): string {
  return `{${table.columns.map((column) => `${column.name}: ${literal(column.type)}`).join(', ')}}`;
}

function createTableSql(table: TableDefinition): string {
  return `CREATE TABLE ${table.name} (${table.columns.map((column) => `${column.name} ${column.type}`).join(', ')})`;
}

export function fileOf(dir: string, table: string, format: ExportFormat): string {
  return join(resolve(dir), `${table}.${format}`);
}

/**
 * Writes every table to `<dir>/<table>.<format>`, typed by `analytics/schema.ts` (an empty table is
 * still a file with the columns). Rows go through JSON lines, the format the AWS tables are stored
 * in, so both read the same text for every value.
 */
export async function writeTables(
  rows: TableRows,
  dir: string,
  format: ExportFormat,
  onTable?: (written: WrittenTable) => void,
): Promise<WrittenTable[]> {
  mkdirSync(dir, { recursive: true });
  const instance = await openDatabase();
  const connection = await instance.connect();
  const written: WrittenTable[] = [];
  try {
    for (const table of tables) {
      const tableRows = rows[table.name as keyof TableRows];
      await connection.run(createTableSql(table));
      if (tableRows.length > 0) {
        const staging = join(resolve(dir), `.${table.name}.jsonl`);
        writeFileSync(staging, tableRows.map(toJsonLine).join(''));
        try {
          await connection.run(
            `INSERT INTO ${table.name} SELECT ${table.columns.map((c) => c.name).join(', ')} FROM read_json(${literal(staging)}, format = 'newline_delimited', columns = ${columnsSpec(table)})`,
          );
        } finally {
          rmSync(staging, { force: true });
        }
      }
      const file = fileOf(dir, table.name, format);
      const options = format === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true';
      await connection.run(`COPY ${table.name} TO ${literal(file)} (${options})`);
      const entry = { table: table.name, file, rows: tableRows.length };
      written.push(entry);
      onTable?.(entry);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return written;
}

export interface QueryResult {
  readonly columns: readonly string[];
  readonly types: readonly string[];
  /** Values as plain JS: numbers (BIGINT beyond 2^53 as text), strings, booleans, null; timestamps as text. */
  readonly rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>;
}

function plain(value: DuckDBValue): string | number | boolean | null {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return String(value);
}

/** A DuckDB session over an export: base tables as views on the files, then the shared views. */
export class AnalyticsSession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /**
   * @example
   * const session = await AnalyticsSession.open('.omnihub/export', 'parquet');
   * const result = await session.query('SELECT count(*) AS people FROM profiles');
   * session.close();
   */
  static async open(dir: string, format: ExportFormat): Promise<AnalyticsSession> {
    const instance = await openDatabase();
    const connection = await instance.connect();
    try {
      for (const table of tables) {
        const file = literal(fileOf(dir, table.name, format));
        const source =
          format === 'parquet'
            ? `read_parquet(${file})`
            : `read_csv(${file}, header = true, columns = ${columnsSpec(table)})`;
        await connection.run(`CREATE VIEW ${table.name} AS SELECT * FROM ${source}`);
      }
      for (const view of views) await connection.run(`CREATE VIEW ${view.name} AS ${view.sql}`);
    } catch (error) {
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
    return new AnalyticsSession(instance, connection);
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    return {
      columns: reader.columnNames(),
      types: reader.columnTypes().map(String),
      rows: reader.getRows().map((row) => row.map(plain)),
    };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
