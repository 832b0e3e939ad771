/**
 * The process environment the hub prepares for the handlers it runs in-process. Handlers find their
 * resources exactly as in Lambda, from env vars; the hub only fills in the ones the user did not set
 * and restores everything it changed when it stops.
 */
import type { AwsCredentials } from '../core/aws/json-client.ts';
import { ENV, rawStreamPrefix, type Topology } from '../lib/topology.ts';
import type { HubLogger } from './log.ts';

/** Whether an env var has a usable value (an empty string counts as unset, as the SDK treats it). */
export function isEnvSet(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && value !== '';
}

/** Records every change to `process.env` so {@link restore} can undo them. */
export class HubEnvironment {
  private readonly previous = new Map<string, string | undefined>();

  /** Sets a variable, whatever it was. */
  set(name: string, value: string): void {
    if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
    process.env[name] = value;
  }

  /** Removes a variable, whatever it was. */
  unset(name: string): void {
    if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
    delete process.env[name];
  }

  /** Sets a variable only when it is not set yet; returns whether the hub's value is now in effect. */
  setDefault(name: string, value: string): boolean {
    if (isEnvSet(name)) return process.env[name] === value;
    this.set(name, value);
    return true;
  }

  /** Puts back every variable the hub changed. */
  restore(): void {
    for (const [name, value] of this.previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.previous.clear();
  }
}

/** The region handlers see when neither the caller nor the shell sets `AWS_REGION`. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * The credentials the hub's AWS APIs (EventBridge, SQS, DynamoDB) accept, and its handlers sign with.
 * Fixed and known, like the endpoints: what keeps those APIs private is that they answer on loopback
 * only; the signature makes sure a call comes from a client configured for the hub (the CLI, the demo,
 * an SDK client with these credentials), not a forged or misdirected request.
 */
export const LOCAL_HUB_CREDENTIALS: AwsCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Sets the caller's variables (they win over the shell's), then what the handlers' SDK clients need
 * when the shell does not say (a region), and the credentials they sign with: the hub's own
 * ({@link LOCAL_HUB_CREDENTIALS}) unless the caller gave others, never the shell's (those are for AWS,
 * and every local client signs with the hub's). Returns the region and credentials in effect.
 */
export function prepareHandlerEnvironment(
  environment: HubEnvironment,
  variables: Readonly<Record<string, string>>,
): { readonly region: string; readonly credentials: AwsCredentials } {
  for (const [name, value] of Object.entries(variables)) environment.set(name, value);
  environment.setDefault('AWS_REGION', DEFAULT_REGION);
  environment.setDefault('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  const given = variables.AWS_ACCESS_KEY_ID && variables.AWS_SECRET_ACCESS_KEY;
  if (!given) {
    environment.set('AWS_ACCESS_KEY_ID', LOCAL_HUB_CREDENTIALS.accessKeyId);
    environment.set('AWS_SECRET_ACCESS_KEY', LOCAL_HUB_CREDENTIALS.secretAccessKey);
  }
  if (!variables.AWS_SESSION_TOKEN) environment.unset('AWS_SESSION_TOKEN');
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return {
    region: process.env.AWS_REGION ?? DEFAULT_REGION,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      ...(sessionToken ? { sessionToken } : {}),
    },
  };
}

/**
 * Points the handlers' SDK clients at the hub (its EventBridge, SQS and Firehose APIs, dynalite) and
 * names the bus, the raw archive's streams, the public URL and the tables, unless the user pointed them elsewhere on purpose: each such
 * variable is left as it is, with a warning.
 */
export function pointHandlersAtHub(
  environment: HubEnvironment,
  hub: { readonly url: string; readonly dynamoDbUrl: string; readonly topology: Topology },
  log: HubLogger,
): void {
  const defaults: [string, string][] = [
    ['AWS_ENDPOINT_URL_EVENTBRIDGE', hub.url],
    ['AWS_ENDPOINT_URL_SQS', hub.url],
    ['AWS_ENDPOINT_URL_FIREHOSE', hub.url],
    [ENV.rawStreamPrefix, rawStreamPrefix(hub.topology.bus.name)],
    ['AWS_ENDPOINT_URL_DYNAMODB', hub.dynamoDbUrl],
    [ENV.busName, hub.topology.bus.name],
    [ENV.publicUrl, hub.url],
    ...hub.topology.tables.map((table): [string, string] => [table.envVar, table.id]),
  ];
  for (const [name, value] of defaults) {
    if (!environment.setDefault(name, value)) {
      log.warn(
        `${name} is set to ${process.env[name]}, not the hub's ${value}; handlers will use the former`,
      );
    }
  }
}
