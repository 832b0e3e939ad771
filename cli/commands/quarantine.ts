/**
 * `omnihub quarantine list [--connector <id>] [--json]`: the verified deliveries (and batch elements)
 * that failed their schema or translator and were kept instead of refused, with the reason each was
 * quarantined. Locally from the hub's `GET /local/quarantine`; with `--aws --stage <s>` from the
 * deployment's quarantine table. `omnihub retranslate --quarantined` retries them after a fix.
 */
import { parseArgs } from 'node:util';
import { connectors } from '../../connectors/index.ts';
import { DYNAMODB } from '../../core/aws/json-client.ts';
import { DynamoDbQuarantine, itemOf, type QuarantineItem } from '../../core/ingest/quarantine.ts';
import { rawRetentionDays } from '../../core/ingest/retention.ts';
import { quarantineTable } from '../../core/tables.ts';
import { asUsageError, type CliCommand, type CliIo, UsageError } from '../command.ts';
import { renderTable } from '../format.ts';
import { API_HELP, API_OPTIONS, apiUrl, HubClient } from '../hub-client.ts';
import { awsJsonClient, awsRegion, awsTableName } from '../hub-resources.ts';

const CONNECTORS = Object.keys(connectors);

const USAGE = `Usage:
  omnihub quarantine list [--connector <id>] [--json]

Lists the deliveries the hub kept instead of publishing: verified webhooks (or elements of a HubSpot
or SendGrid batch) that failed their schema or translator. They were answered 2xx, so the vendor does
not send them again; fix the connector, then retry them with \`omnihub retranslate --quarantined\`.
Items expire with the raw archive (rawRetentionDays, 30 by default).

Columns: connector, deliveryId (the vendor's id; for a batch element without one, <request
digest>#<index>), topic, reason (which field, what was expected), receivedAt.

Options:
  --connector <id>    only this connector's items (${CONNECTORS.join(', ')})
  --json              a JSON array of {connector, deliveryId, topic, reason, receivedAt}
  --api <url>         ${API_HELP}
  --aws               the deployment's quarantine table (your AWS credentials and region)
  --stage <stage>     with --aws: the stage, whose stack is Omnihub-<stage> (default dev)
  --table <name>      with --aws: the quarantine table's name, instead of finding it

In AWS this needs dynamodb:ListTables (without --table) and dynamodb:Scan on the table.

Examples:
  npx omnihub quarantine list
  npx omnihub quarantine list --connector sendgrid --json
  npx omnihub quarantine list --aws --stage prod`;

interface Options {
  readonly connector: string | undefined;
  readonly json: boolean;
  readonly aws: boolean;
  readonly stage: string;
  readonly table: string | undefined;
  readonly api: string;
}

function parseOptions(args: readonly string[], io: CliIo): Options {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        connector: { type: 'string' },
        json: { type: 'boolean', default: false },
        aws: { type: 'boolean', default: false },
        stage: { type: 'string', default: 'dev' },
        table: { type: 'string' },
        ...API_OPTIONS,
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    throw asUsageError(error);
  }
  const { values, positionals } = parsed;
  const [subcommand, ...rest] = positionals;
  if (subcommand !== 'list' || rest.length > 0) {
    throw new UsageError(
      subcommand === undefined ? 'say what to do: list' : `unknown subcommand ${subcommand}`,
    );
  }
  if (values.connector !== undefined && !CONNECTORS.includes(values.connector)) {
    throw new UsageError(`unknown connector ${values.connector}; the hub has ${CONNECTORS.join(', ')}`);
  }
  if (values.aws && (values.api !== undefined || values.hub !== undefined)) {
    throw new UsageError('--api and --aws exclude each other');
  }
  if (!values.aws && values.table !== undefined) throw new UsageError('--table goes with --aws');
  return {
    connector: values.connector,
    json: values.json ?? false,
    aws: values.aws ?? false,
    stage: values.stage ?? 'dev',
    table: values.table,
    api: values.aws ? '' : apiUrl(values, io),
  };
}

async function listItems(options: Options, io: CliIo): Promise<QuarantineItem[]> {
  if (!options.aws) {
    const client = new HubClient({ baseUrl: options.api });
    return client.request<QuarantineItem[]>(
      'GET',
      '/local/quarantine',
      options.connector === undefined ? {} : { connector: options.connector },
    );
  }
  const region = await awsRegion(io.env);
  const quarantine = new DynamoDbQuarantine({
    tableName: options.table ?? (await awsTableName(options.stage, quarantineTable.id, region)),
    retentionDays: rawRetentionDays(io.env),
    client: awsJsonClient(DYNAMODB, io.env, region),
  });
  const records = await quarantine.list(
    options.connector === undefined ? {} : { connector: options.connector },
  );
  return records.map(itemOf);
}

/** The items as the table `quarantine list` prints. */
export function renderQuarantine(items: readonly QuarantineItem[]): string {
  return renderTable(
    items.map((item) => [item.connector, item.deliveryId, item.topic || '-', item.reason, item.receivedAt]),
    ['connector', 'deliveryId', 'topic', 'reason', 'receivedAt'],
  );
}

export const quarantineCommand: CliCommand = {
  name: 'quarantine',
  summary: 'list the deliveries kept because they failed their schema or translator',
  usage: USAGE,
  async run(args, io) {
    const options = parseOptions(args, io);
    const items = await listItems(options, io);
    if (options.json) {
      io.out(JSON.stringify(items, null, 2));
      return 0;
    }
    if (items.length === 0) {
      io.out(`The quarantine${options.connector ? ` of ${options.connector}` : ''} is empty.`);
      return 0;
    }
    io.out(renderQuarantine(items));
    io.out(`\n${items.length} item(s). After a fix: npx omnihub retranslate --quarantined`);
    return 0;
  },
};
