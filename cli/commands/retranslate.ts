/**
 * `omnihub retranslate --from <time> [--to <time>] [--connector <id>] [--quarantined] [--dry-run]`:
 * today's translators over the raw archive (every verified webhook as received), publishing what they
 * now make of it: events missing or different from what was published (a fixed translator), nothing
 * for what is unchanged. `--quarantined` retries the quarantine and removes what now passes. Locally
 * against the hub (`GET /local/raw`, its bus, ledger and quarantine in dynalite); with `--aws --stage`
 * against a deployment (S3, EventBridge, DynamoDB). See core/ingest/retranslate.ts.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { connectors } from '../../connectors/index.ts';
import { DYNAMODB, EVENTBRIDGE } from '../../core/aws/json-client.ts';
import { PutEventsPublisher, putEventsOverJson } from '../../core/aws/put-events.ts';
import { JsonProtocolPersistenceLayer } from '../../core/ingest/idempotency-store.ts';
import {
  type DeliveryLedger,
  ledgerKeyPrefix,
  ledgerRetentionSeconds,
  PowertoolsDeliveryLedger,
} from '../../core/ingest/ledger.ts';
import { DynamoDbQuarantine } from '../../core/ingest/quarantine.ts';
import type { RawDelivery } from '../../core/ingest/raw-archive.ts';
import { rawRetentionDays } from '../../core/ingest/retention.ts';
import {
  type RetranslateSummary,
  type RetranslateTarget,
  retranslateDeliveries,
  retranslateQuarantine,
} from '../../core/ingest/retranslate.ts';
import { idempotencyTable, quarantineTable } from '../../core/tables.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { ProgressBar } from '../format.ts';
import { API_HELP, API_OPTIONS, apiUrl } from '../hub-client.ts';
import {
  awsJsonClient,
  awsRegion,
  awsTableName,
  localHubEndpoints,
  localJsonClient,
} from '../hub-resources.ts';
import { awsRawBucket, awsRawDeliveries, localRawDeliveries, type RawWindow } from '../raw-source.ts';
import { parseInstant } from './replay.ts';

const CONNECTORS = Object.keys(connectors);

const USAGE = `Usage:
  omnihub retranslate --from <time> [--to <time>] [--connector <id>] [--dry-run]
  omnihub retranslate --quarantined [--from <time>] [--to <time>] [--connector <id>] [--dry-run]

Runs today's connector translators over the raw archive (every verified webhook, as received, kept
rawRetentionDays) and publishes what they make of it that was not published before: the events of a
delivery a fixed translator now reads differently, or reads at all. A delivery whose events would be
the same as those it published is left alone: event ids cover the delivery, the event's position in
it and its content, and the ledger keeps a digest of what each delivery published, so a second run
publishes nothing. Corrected events carry retranslatedAt and win over what they correct.

--quarantined retries the quarantine (omnihub quarantine list) instead, and removes the items that
now translate.

Ends with one line: read N, published N, unchanged N, still failing N.

Options:
  --from <time>       deliveries received at or after (2025-06-01, or 2025-06-01T09:00:00Z); required
                      without --quarantined
  --to <time>         ... and before (default: now)
  --connector <id>    only this connector's (${CONNECTORS.join(', ')})
  --quarantined       retry the quarantine items (received in the window, if one is given)
  --dry-run           count only: publish, record and remove nothing
  --api <url>         ${API_HELP}
  --aws               a deployment (your AWS credentials and region)
  --stage <stage>     with --aws: the stage, whose stack is Omnihub-<stage> (default dev)
  --bucket <name>     with --aws: the raw archive bucket (stack output RawArchiveBucketName)
  --bus <name>        with --aws: the bus (default omnihub-<stage>)
  --ledger-table <name>, --quarantine-table <name>
                      with --aws: the idempotency and quarantine tables, instead of finding them

In AWS this needs s3:ListBucket and s3:GetObject on the bucket (and s3:ListAllMyBuckets without
--bucket), kms:Decrypt with the hub key, events:PutEvents on the bus, dynamodb:GetItem and
dynamodb:UpdateItem on the idempotency table, dynamodb:Scan, PutItem and DeleteItem on the
quarantine table (and dynamodb:ListTables without the table options).

Examples:
  npx omnihub retranslate --from 2025-06-01 --to 2025-06-02 --dry-run
  npx omnihub retranslate --from 2025-06-01 --connector sendgrid
  npx omnihub retranslate --quarantined
  npx omnihub retranslate --quarantined --aws --stage prod`;

interface Options {
  readonly from: Date | undefined;
  readonly to: Date;
  readonly connectors: readonly string[];
  readonly quarantined: boolean;
  readonly dryRun: boolean;
  readonly aws: boolean;
  readonly stage: string;
  readonly bucket: string | undefined;
  readonly bus: string | undefined;
  readonly ledgerTable: string | undefined;
  readonly quarantineTable: string | undefined;
  readonly api: string;
}

function parseOptions(args: readonly string[], io: CliIo, now: Date): Options {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        connector: { type: 'string' },
        quarantined: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        aws: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'dev' },
        bucket: { type: 'string' },
        bus: { type: 'string' },
        'ledger-table': { type: 'string' },
        'quarantine-table': { type: 'string' },
        ...API_OPTIONS,
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw asUsageError(error);
  }
  const { values } = parsed;
  const quarantined = values.quarantined ?? false;
  if (values.from === undefined && !quarantined) {
    throw new UsageError('--from is required (or --quarantined), e.g. --from 2025-06-01');
  }
  const from = values.from === undefined ? undefined : parseInstant(values.from, '--from');
  const to = values.to === undefined ? now : parseInstant(values.to, '--to');
  if (from && from.getTime() >= to.getTime()) {
    throw new UsageError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  }
  if (values.connector !== undefined && !CONNECTORS.includes(values.connector)) {
    throw new UsageError(`unknown connector ${values.connector}; the hub has ${CONNECTORS.join(', ')}`);
  }
  const aws = values.aws ?? false;
  if (aws && (values.api !== undefined || values.hub !== undefined)) {
    throw new UsageError('--api and --aws exclude each other');
  }
  const awsOnly = ['bucket', 'bus', 'ledger-table', 'quarantine-table'] as const;
  const misplaced = awsOnly.find((name) => values[name] !== undefined);
  if (!aws && misplaced) throw new UsageError(`--${misplaced} goes with --aws`);
  return {
    from,
    to,
    connectors: values.connector === undefined ? CONNECTORS : [values.connector],
    quarantined,
    dryRun: values['dry-run'] ?? false,
    aws,
    stage: values.stage ?? 'dev',
    bucket: values.bucket,
    bus: values.bus,
    ledgerTable: values['ledger-table'],
    quarantineTable: values['quarantine-table'],
    api: aws ? '' : apiUrl(values, io),
  };
}

interface Hub {
  readonly target: Omit<RetranslateTarget, 'onProgress'>;
  readonly readRaw: (window: RawWindow, progress: ProgressBar) => Promise<RawDelivery[]>;
  readonly close: () => void;
}

function correlationId(now: Date): string {
  return `retranslate-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

async function localHub(options: Options, io: CliIo, now: Date): Promise<Hub> {
  const endpoints = await localHubEndpoints(options.api);
  const dynamoDb = localJsonClient(DYNAMODB, endpoints.dynamoDb, endpoints.region);
  return {
    target: {
      connectors,
      publisher: new PutEventsPublisher({
        busName: endpoints.busName,
        putEvents: putEventsOverJson(localJsonClient(EVENTBRIDGE, endpoints.eventBridge, endpoints.region)),
      }),
      ledgerOf: ledgers(
        idempotencyTable.id,
        (tableName) => new JsonProtocolPersistenceLayer({ tableName, client: dynamoDb }),
        io,
      ),
      quarantine: new DynamoDbQuarantine({
        tableName: quarantineTable.id,
        retentionDays: rawRetentionDays(io.env),
        client: dynamoDb,
      }),
      dryRun: options.dryRun,
      correlationId: correlationId(now),
    },
    readRaw: (window) => localRawDeliveries(options.api, window),
    close: () => undefined,
  };
}

async function awsHub(options: Options, io: CliIo, now: Date): Promise<Hub> {
  const region = await awsRegion(io.env);
  const dynamoDb = awsJsonClient(DYNAMODB, io.env, region);
  const ledgerTable = options.ledgerTable ?? (await awsTableName(options.stage, idempotencyTable.id, region));
  const quarantine =
    options.quarantineTable ?? (await awsTableName(options.stage, quarantineTable.id, region));
  const s3 = new S3Client({ region });
  const bucket = options.bucket ?? (await awsRawBucket(s3, options.stage));
  return {
    target: {
      connectors,
      publisher: new PutEventsPublisher({
        busName: options.bus ?? `omnihub-${options.stage}`,
        putEvents: putEventsOverJson(awsJsonClient(EVENTBRIDGE, io.env, region)),
      }),
      ledgerOf: ledgers(
        ledgerTable,
        (tableName) => new JsonProtocolPersistenceLayer({ tableName, client: dynamoDb }),
        io,
      ),
      quarantine: new DynamoDbQuarantine({
        tableName: quarantine,
        retentionDays: rawRetentionDays(io.env),
        client: dynamoDb,
      }),
      dryRun: options.dryRun,
      correlationId: correlationId(now),
    },
    readRaw: (window, progress) => awsRawDeliveries(s3, bucket, window, progress),
    close: () => s3.destroy(),
  };
}

/** One ledger per connector, as ingest keys them (`ingest.<connector>`). */
function ledgers(
  tableName: string,
  store: (tableName: string) => JsonProtocolPersistenceLayer,
  io: CliIo,
): (connectorId: string) => DeliveryLedger {
  const made = new Map<string, DeliveryLedger>();
  return (connectorId) => {
    let ledger = made.get(connectorId);
    if (!ledger) {
      ledger = new PowertoolsDeliveryLedger({
        tableName,
        keyPrefix: ledgerKeyPrefix(connectorId),
        retentionSeconds: ledgerRetentionSeconds(io.env),
        store: store(tableName),
      });
      made.set(connectorId, ledger);
    }
    return ledger;
  };
}

/** The closing line, the same with --dry-run. */
export function summaryLine(summary: RetranslateSummary): string {
  return `read ${summary.read}, published ${summary.published}, unchanged ${summary.unchanged}, still failing ${summary.stillFailing}`;
}

async function run(options: Options, hub: Hub, io: CliIo): Promise<RetranslateSummary> {
  const progress = new ProgressBar(io);
  const onProgress = (done: number, total: number) => progress.update('retranslated', { done, total });
  const target: RetranslateTarget = { ...hub.target, onProgress };
  if (!options.quarantined) {
    const window = { from: options.from as Date, to: options.to, connectors: options.connectors };
    const deliveries = await hub.readRaw(window, progress);
    const summary = await retranslateDeliveries(deliveries, target);
    progress.clear();
    return summary;
  }
  const items = (await hub.target.quarantine.list()).filter((item) => {
    const at = Date.parse(item.receivedAt);
    return (
      options.connectors.includes(item.connector) &&
      (options.from === undefined || at >= options.from.getTime()) &&
      at < options.to.getTime()
    );
  });
  let deliveries: RawDelivery[] = [];
  if (items.length > 0) {
    const times = items.map((item) => Date.parse(item.receivedAt));
    deliveries = await hub.readRaw(
      {
        from: new Date(Math.min(...times)),
        to: new Date(Math.max(...times) + 1),
        connectors: [...new Set(items.map((item) => item.connector))],
      },
      progress,
    );
  }
  const summary = await retranslateQuarantine(items, deliveries, target);
  progress.clear();
  return summary;
}

export const retranslateCommand: CliCommand = {
  name: 'retranslate',
  summary: "run today's translators over the raw archive (or the quarantine) and publish what changed",
  usage: USAGE,
  async run(args, io) {
    const now = new Date();
    const options = parseOptions(args, io, now);
    const hub = options.aws ? await awsHub(options, io, now) : await localHub(options, io, now);
    try {
      const summary = await run(options, hub, io);
      if (options.dryRun) io.out('Dry run: nothing was published, recorded or removed.');
      io.out(summaryLine(summary));
      return 0;
    } finally {
      hub.close();
    }
  },
};
