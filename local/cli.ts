/**
 * The `npm start` experience: start the hub from the environment, say what is running where, and stop
 * cleanly on SIGINT/SIGTERM (a second signal exits at once).
 *
 * Environment: `PORT` (the loopback listener, which serves everything; default 3000, 0 = any free port),
 * `HOST` and `OMNIHUB_WEBHOOK_PORT` (the webhook listener, the one to expose or tunnel; default 127.0.0.1
 * and `PORT` + 1, any free port when `PORT` is 0), `OMNIHUB_DATA_DIR`
 * (default `<repo>/.omnihub`, `:memory:` keeps nothing), `OMNIHUB_LOCAL_CONSUMERS=paused` (start with
 * the consumers' pollers paused), `OMNIHUB_LOCAL_ACCOUNT_ID`, plus the AWS and topology variables the hub
 * fills in when unset (see local/README.md).
 */
import type { Topology } from '../lib/topology.ts';
import { type HubHealth, type LocalHub, startLocalHub } from './hub.ts';

/** The line the hub prints when it is ready; scripts and tests find the URL with this pattern. */
export const READY_LINE = /^Omnihub local hub .* ready at (http:\/\/\S+)$/m;

function portFromEnv(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`${name} must be 0-65535, got ${value}`);
  return port;
}

/** The banner: URL, routes, connectors (and which are not configured), consumers. */
export function describeHub(health: HubHealth, topology: Topology): string {
  const lines = [`Omnihub local hub ${health.version} ready at ${health.url}`];
  lines.push(
    `  webhooks also at ${health.webhookUrl} (POST /webhooks/<connector> and GET /health only): the one to expose or tunnel`,
  );
  lines.push(
    `  data ${health.dataDir} | region ${health.region} | account ${health.accountId} | bus ${health.bus.name}`,
  );
  lines.push(
    `  endpoints EventBridge + SQS ${health.endpoints.eventBridge} | DynamoDB (dynalite) ${health.endpoints.dynamoDb}`,
  );
  lines.push(`  routes (at ${health.url}; * also at ${health.webhookUrl}):`);
  for (const route of topology.ingest) lines.push(`  * ${route.method} ${route.path}  -> ${route.entry}`);
  for (const api of topology.api) {
    for (const route of api.routes) {
      lines.push(
        `    ${route.method.padEnd(4)} ${route.path}  -> ${api.entry} (${api.id}; IAM-authorized in AWS)`,
      );
    }
  }
  lines.push('  * GET  /health');
  lines.push('    GET  /local/events?type=&since=&limit=');
  lines.push('    GET  /local/outbox/<destination>');
  lines.push(
    '    POST /  (X-Amz-Target: AWSEvents.* and AmazonSQS.*; SigV4 with the hub credentials local/local)',
  );
  lines.push('  connectors:');
  if (health.connectors.length === 0) lines.push('    (none registered in connectors/index.ts)');
  for (const connector of health.connectors) {
    lines.push(
      connector.configured
        ? `    ${connector.id}: configured`
        : `    ${connector.id}: NOT configured, set ${connector.missingSecrets.join(', ')} (its webhook answers 503 until then)`,
    );
  }
  lines.push('  consumers:');
  for (const consumer of topology.consumers) {
    const status = health.consumers.find((candidate) => candidate.id === consumer.id);
    lines.push(
      `    ${consumer.id} (${status?.state ?? 'unknown'}): rule ${JSON.stringify(consumer.pattern)} -> queue ${consumer.id} (DLQ ${consumer.id}-dlq) -> ${consumer.entry}`,
    );
  }
  return lines.join('\n');
}

/**
 * Starts the hub as `npm start` does and installs the signal handlers.
 *
 * @example
 * await runLocalHubCli(); // local/main.ts
 */
export async function runLocalHubCli(options: { readonly topology?: Topology } = {}): Promise<LocalHub> {
  // Signal handlers first: a SIGTERM that arrives while the hub starts still stops it cleanly.
  let hub: LocalHub | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  const stop = (running: LocalHub, signal: NodeJS.Signals) => {
    console.log(`${signal}: stopping (finishing in-flight requests and batches; ${signal} again to force)`);
    running.stop().then(
      () => {
        console.log('Omnihub local hub stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`failed to stop cleanly: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      console.log(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopRequested = signal;
    if (hub) stop(hub, signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const port = portFromEnv('PORT', 3000);
  hub = await startLocalHub({
    ...(options.topology ? { topology: options.topology } : {}),
    port,
    host: process.env.HOST || '127.0.0.1',
    webhookPort: portFromEnv('OMNIHUB_WEBHOOK_PORT', port === 0 ? 0 : port + 1),
    consumers: process.env.OMNIHUB_LOCAL_CONSUMERS === 'paused' ? 'paused' : 'running',
  });
  console.log(describeHub(hub.health(), hub.topology));
  if (stopRequested) stop(hub, stopRequested);
  return hub;
}
