/**
 * Where the CLI finds a hub's stores: locally from the hub's `GET /health` (its dynalite endpoint and
 * region), in AWS from the account (tables by the names CloudFormation gives the stack's resources,
 * `Omnihub-<stage>-<logical id>-<suffix>`, or named with `--table`). The stores themselves are the
 * ones the functions use (`core/`), over JSON-protocol clients pointed at the right endpoint.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type AwsCredentials, AwsJsonClient, type AwsJsonService } from '../core/aws/json-client.ts';
import { UsageError } from './command.ts';

/** What the CLI needs of the local hub's `GET /health`. */
export interface LocalHubEndpoints {
  readonly region: string;
  readonly dynamoDb: string;
  readonly eventBridge: string;
  readonly busName: string;
}

const LOCAL_CREDENTIALS = async (): Promise<AwsCredentials> => ({
  accessKeyId: 'local',
  secretAccessKey: 'local',
});

/** The local hub's endpoints, or an error saying how to reach it. */
export async function localHubEndpoints(api: string): Promise<LocalHubEndpoints> {
  let health: {
    region?: string;
    bus?: { name?: string };
    endpoints?: { dynamoDb?: string; eventBridge?: string };
  };
  try {
    health = (await (await fetch(new URL('/health', api))).json()) as typeof health;
  } catch (error) {
    throw new Error(
      `cannot reach the hub at ${api} (${error instanceof Error ? error.message : String(error)}); is it running (npm start)? Use --aws for a deployment.`,
    );
  }
  const { region, endpoints, bus } = health;
  if (!region || !endpoints?.dynamoDb || !bus?.name) {
    throw new Error(`${api}/health does not describe a local hub (no region, DynamoDB endpoint or bus)`);
  }
  return {
    region,
    dynamoDb: endpoints.dynamoDb,
    eventBridge: endpoints.eventBridge ?? api,
    busName: bus.name,
  };
}

/** A JSON-protocol client of one of the local hub's services (dummy credentials, as the hub's functions). */
export function localJsonClient(service: AwsJsonService, endpoint: string, region: string): AwsJsonClient {
  const variable = `AWS_ENDPOINT_URL_${service.serviceId.toUpperCase().replace(/ /g, '_')}`;
  return new AwsJsonClient(service, {
    env: { [variable]: endpoint, AWS_REGION: region },
    credentials: LOCAL_CREDENTIALS,
  });
}

/** The region the AWS SDK would use (`AWS_REGION`, else the profile's), for clients that need it spelled out. */
export async function awsRegion(env: NodeJS.ProcessEnv): Promise<string> {
  const explicit = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (explicit) return explicit;
  const client = new DynamoDBClient({});
  try {
    return await client.config.region();
  } finally {
    client.destroy();
  }
}

/** A JSON-protocol client of an AWS service with your credentials (the SDK's default chain). */
export function awsJsonClient(
  service: AwsJsonService,
  env: NodeJS.ProcessEnv,
  region: string,
): AwsJsonClient {
  return new AwsJsonClient(service, { env: { ...env, AWS_REGION: region } });
}

/**
 * The name of a hub table in AWS: the stack `Omnihub-<stage>`'s table whose logical id holds
 * `Tables<table id>` (construct ids are part of the hub's contract).
 */
export async function awsTableName(stage: string, tableId: string, region: string): Promise<string> {
  const client = new DynamoDBClient({ region });
  const names: string[] = [];
  try {
    let start: string | undefined;
    do {
      const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start);
  } finally {
    client.destroy();
  }
  const logical = `Tables${tableId.replace(/[^A-Za-z0-9]/g, '')}`;
  const pattern = new RegExp(`^Omnihub-${stage}-\\w*${logical}[A-F0-9]{8}-`);
  const found = names.filter((name) => pattern.test(name));
  if (found.length !== 1) {
    throw new UsageError(
      `${found.length === 0 ? 'no' : 'more than one'} '${tableId}' table of stack Omnihub-${stage} in ${region}; name it with --table`,
    );
  }
  return found[0] as string;
}
