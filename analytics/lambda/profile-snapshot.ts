/**
 * Scheduled profile snapshot (AWS): scans the profile table, flattens it with the same code as the
 * local export, and replaces one gzipped JSON-lines object per table under
 * `profiles/<table>/snapshot.json.gz`, where the Glue tables of the same names read it.
 *
 * Each object is replaced atomically; the tables are written one after the other within seconds,
 * so a query that joins them while a snapshot is being written may see one table a snapshot ahead.
 */
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { logger } from '../../core/observability.ts';
import { flattenProfileItems, type TableItem, toJsonLine } from '../flatten.ts';
import { S3ObjectWriter } from './s3-object-writer.ts';

export const ENV_BUCKET = 'OMNIHUB_ANALYTICS_BUCKET';
export const ENV_TABLE = 'OMNIHUB_PROFILE_TABLE';
export const SNAPSHOT_PREFIX = 'profiles/';

/** Where a profile-derived table's snapshot lives in the analytics bucket. */
export function snapshotKey(table: string): string {
  return `${SNAPSHOT_PREFIX}${table}/snapshot.json.gz`;
}

export interface SnapshotDependencies {
  readonly db: DynamoDBDocumentClient;
  readonly writer: Pick<S3ObjectWriter, 'put'>;
  readonly tableName: string;
}

export async function writeSnapshot(deps: SnapshotDependencies): Promise<Record<string, number>> {
  const items: TableItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await deps.db.send(
      new ScanCommand({ TableName: deps.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const rows = flattenProfileItems(items);
  const counts: Record<string, number> = {};
  for (const [table, tableRows] of Object.entries(rows)) {
    await deps.writer.put(
      snapshotKey(table),
      gzipSync(Buffer.from(tableRows.map(toJsonLine).join(''), 'utf8')),
      'application/x-ndjson',
    );
    counts[table] = tableRows.length;
  }
  return counts;
}

let dependencies: SnapshotDependencies | undefined;

function fromEnvironment(): SnapshotDependencies {
  const bucket = process.env[ENV_BUCKET];
  const tableName = process.env[ENV_TABLE];
  if (!bucket || !tableName) throw new Error(`${ENV_BUCKET} and ${ENV_TABLE} must be set`);
  return {
    db: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    writer: new S3ObjectWriter({ bucket }),
    tableName,
  };
}

export const handler = async (): Promise<Record<string, number>> => {
  dependencies ??= fromEnvironment();
  const counts = await writeSnapshot(dependencies);
  logger.info('profile snapshot written', {
    rows: counts,
    items: Object.values(counts).reduce((a, b) => a + b, 0),
  });
  return counts;
};
