/**
 * `npm run demo`: an omnichannel journey of three customers, posted to the hub as Shopify, Square,
 * Twilio, SendGrid and HubSpot would post it (signed the same way), then the unified profiles.
 *
 * - No hub answering on `OMNIHUB_API_URL` / `http://127.0.0.1:${PORT:-3000}`: starts one in this
 *   process (port 3000, or a free one when taken; state in memory unless `--data-dir`), with freshly
 *   generated webhook secrets, and keeps it serving after the journey so the printed commands work.
 *   `--exit`, or a non-interactive stdout, stops it after printing.
 * - A hub already running there: used when this environment holds the same secrets it was started
 *   with (SHOPIFY_WEBHOOK_SECRET, HUBSPOT_CLIENT_SECRET, SQUARE_SIGNATURE_KEY, TWILIO_AUTH_TOKEN) and
 *   OMNIHUB_PUBLIC_URL if it has one. SendGrid signs with a private key the hub never sees: put its
 *   PEM in OMNIHUB_DEMO_SENDGRID_PRIVATE_KEY (the hub's SENDGRID_WEBHOOK_PUBLIC_KEY is its public half),
 *   or the SendGrid part is skipped.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import { buildJourney } from '../demo/journey.ts';
import { freePort, portIsFree } from '../demo/ports.ts';
import { type DeliveryResult, postJourney, settleByHealth } from '../demo/post.ts';
import { chooseLookup, differences, profileDetails, summaryTable } from '../demo/profiles.ts';
import { truthOf } from '../demo/truth.ts';
import { generateWebhookKeys, type WebhookKeys } from '../demo/vendor-webhooks.ts';
import type { VendorId } from '../demo/vendors/step.ts';
import type { HubHealth } from '../local/hub.ts';
import { startLocalHub } from '../local/hub.ts';

const USAGE = `Usage: npm run demo [-- --exit] [-- --data-dir <dir>]

Posts a signed omnichannel journey (Shopify, Square, Twilio, SendGrid, HubSpot) for three people to
the hub and prints their unified profiles.

  --exit            stop the demo's own hub after printing (default when stdout is not a terminal)
  --data-dir <dir>  keep the demo hub's state there (default: in memory, gone when it stops)

Uses the hub at OMNIHUB_API_URL or http://127.0.0.1:\${PORT:-3000} when one answers there (it needs
the same secrets in this environment; see README "Demo"), else starts its own.`;

/** The HMAC secrets a running hub must share with the demo. */
const SHARED_SECRETS = [
  'SHOPIFY_WEBHOOK_SECRET',
  'HUBSPOT_CLIENT_SECRET',
  'SQUARE_SIGNATURE_KEY',
  'TWILIO_AUTH_TOKEN',
];
const SENDGRID_KEY_ENV = 'OMNIHUB_DEMO_SENDGRID_PRIVATE_KEY';

const out = (text = '') => process.stdout.write(`${text}\n`);

async function runningHub(baseUrl: string): Promise<HubHealth | undefined> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1500) });
    const health = (await response.json()) as HubHealth;
    return typeof health.url === 'string' ? health : undefined;
  } catch {
    return undefined;
  }
}

/** Keys for a hub in another process, from this environment; undefined (with reasons) when incomplete. */
function sharedKeys(health: HubHealth): { keys?: WebhookKeys; skip: Set<VendorId>; problems: string[] } {
  const problems: string[] = [];
  const missing = SHARED_SECRETS.filter((name) => !process.env[name]);
  if (missing.length > 0) problems.push(`this shell does not have ${missing.join(', ')}`);
  const unconfigured = health.connectors.filter((connector) => !connector.configured).map((c) => c.id);
  if (unconfigured.length > 0) problems.push(`the hub has no secrets for ${unconfigured.join(', ')}`);
  if (problems.length > 0) return { skip: new Set(), problems };
  const skip = new Set<VendorId>();
  const pem = process.env[SENDGRID_KEY_ENV];
  const privateKeys: Record<string, KeyObject> = {};
  if (pem) privateKeys.sendgrid = createPrivateKey(pem.replace(/\\n/g, '\n'));
  else skip.add('sendgrid');
  const secrets = Object.fromEntries(SHARED_SECRETS.map((name) => [name, process.env[name] ?? '']));
  return {
    keys: { publicUrl: process.env.OMNIHUB_PUBLIC_URL ?? health.url, secrets, privateKeys },
    skip,
    problems,
  };
}

function progressLine(result: DeliveryResult): string {
  const ok = result.status >= 200 && result.status < 300;
  const when = result.step.expected[0]?.at?.slice(5, 16).replace('T', ' ') ?? 'on receipt ';
  const status = ok ? String(result.status) : `${result.status || 'ERR'} ${result.body}`;
  return `  ${ok ? '✓' : '✗'} ${when}  ${result.step.connector.padEnd(8)} ${result.step.topic.padEnd(44)} ${result.step.story}  ${status}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      exit: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const baseUrl = (process.env.OMNIHUB_API_URL ?? `http://127.0.0.1:${process.env.PORT || 3000}`).replace(
    /\/$/,
    '',
  );
  const existing = await runningHub(baseUrl);

  let hubUrl: string;
  let keys: WebhookKeys;
  let skip = new Set<VendorId>();
  let settle: () => Promise<void>;
  let dynamoDbUrl: string | undefined;
  let stop: (() => Promise<void>) | undefined;

  if (existing) {
    const shared = sharedKeys(existing);
    if (!shared.keys) {
      out(`A hub is already running at ${baseUrl}, but the demo cannot sign webhooks it will accept:`);
      for (const problem of shared.problems) out(`  - ${problem}`);
      out('');
      out('Either let the demo start its own hub on another port:');
      const otherPort = Number(new URL(baseUrl).port || 80) === 3100 ? 3200 : 3100;
      out(`  PORT=${otherPort} npm run demo`);
      out('or export the same secrets in both shells before `npm start` and `npm run demo`:');
      out(`  export ${SHARED_SECRETS.map((name) => `${name}=...`).join(' ')}`);
      out(
        `  export SENDGRID_WEBHOOK_PUBLIC_KEY=... ${SENDGRID_KEY_ENV}="$(cat sendgrid-demo.pem)"  # optional`,
      );
      return 1;
    }
    hubUrl = baseUrl;
    keys = shared.keys;
    skip = shared.skip;
    settle = () => settleByHealth(baseUrl);
    dynamoDbUrl = existing.endpoints.dynamoDb;
    out(`Using the hub running at ${baseUrl} (public URL ${keys.publicUrl}).`);
    if (skip.has('sendgrid'))
      out(
        `SendGrid steps skipped: set ${SENDGRID_KEY_ENV} to the PEM private key of the hub's SendGrid key pair.`,
      );
  } else {
    const wanted = Number(process.env.PORT || 3000);
    const port = (await portIsFree(wanted)) ? wanted : await freePort();
    hubUrl = `http://127.0.0.1:${port}`;
    keys = generateWebhookKeys(hubUrl);
    const hub = await startLocalHub({
      port,
      dataDir: values['data-dir'] ?? ':memory:',
      env: {
        ...keys.secrets,
        OMNIHUB_PUBLIC_URL: hubUrl,
        // The handlers' own logs and metrics would drown the story; errors still show.
        POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
        POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      },
      log: (line) => {
        if (/\b(warning|error):/.test(line)) process.stderr.write(`${line}\n`);
      },
    });
    settle = () => hub.drain({ timeoutMs: 60_000 });
    dynamoDbUrl = hub.dynamoDbUrl;
    stop = () => hub.stop();
    out(`Started a local hub at ${hub.url} (data: ${hub.dataDir}) with freshly generated webhook secrets.`);
  }

  try {
    const journey = buildJourney();
    const truth = truthOf(journey);
    out('');
    out(
      `Posting ${journey.steps.length - journey.steps.filter((s) => skip.has(s.connector)).length} signed webhooks (times are vendor event times, UTC):`,
    );
    let phase = 0;
    const results = await postJourney({
      hubUrl,
      keys,
      journey,
      settle,
      skip,
      onDelivery: (result) => {
        if (result.step.phase !== phase) {
          phase = result.step.phase;
          out(`  — phase ${phase}`);
        }
        out(progressLine(result));
      },
    });
    const refused = results.filter((result) => result.status < 200 || result.status > 299);
    out(
      `The profile writer has processed everything (${results.length - refused.length}/${results.length} webhooks accepted).`,
    );

    const lookup = await chooseLookup(hubUrl, dynamoDbUrl);
    const found = await Promise.all(
      truth.people.map(async (person) => ({ person, view: await lookup.find(person.lookup) })),
    );
    out('');
    out(`Unified profiles (read through ${lookup.via}):`);
    out('');
    out(summaryTable(found.map(({ person, view }) => ({ name: person.name, view }))));
    for (const { person, view } of found) {
      out('');
      if (view) out(profileDetails(person.name, view));
      else out(`${person.name}: no profile found`);
    }
    // Compared only when the whole journey was posted to a fresh hub: otherwise other data may mix in.
    const comparable = skip.size === 0 && !existing;
    const mismatches = comparable
      ? found.flatMap(({ person, view }) =>
          differences(view, person).map((text) => `${person.name}: ${text}`),
        )
      : [];
    out('');
    if (comparable && mismatches.length === 0)
      out('✓ Every profile matches the journey’s expected truth (demo/truth.ts).');
    for (const mismatch of mismatches) out(`✗ ${mismatch}`);

    const apiPrefix = hubUrl === 'http://127.0.0.1:3000' ? '' : `OMNIHUB_API_URL=${hubUrl} `;
    const ava = found[0]?.view;
    out('');
    out('Inspect them:');
    for (const { person } of found)
      out(`  ${apiPrefix}npx omnihub profile get --email ${person.lookup.value}`);
    out(`  ${apiPrefix}npx omnihub profile get --phone +13125550142 --json`);
    out(`  ${apiPrefix}npx omnihub profile get --external square:JDKYHBWT1D4F8MFH63DBMEN8Y4`);
    if (ava) out(`  ${apiPrefix}npx omnihub profile events ${ava.profileId}`);
    out(`  curl -s '${hubUrl}/profiles?email=${encodeURIComponent(truth.people[0]?.lookup.value ?? '')}'`);
    out(`  curl -s '${hubUrl}/local/events?limit=50'    # the canonical events on the bus`);

    const failed = refused.length > 0 || mismatches.length > 0;
    if (stop && !values.exit && process.stdout.isTTY) {
      out('');
      out(`The hub keeps running at ${hubUrl}; press Ctrl-C to stop it.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return failed ? 1 : 0;
  } finally {
    await stop?.();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
