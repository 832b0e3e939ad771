/**
 * Crash safety of the raw archive and the quarantine on the real hub: `npm start`'s entry in a child
 * process, consumers paused, SIGKILLed right after answering 2xx to a signed Shopify order and a
 * SendGrid batch with one bad element. After a restart on the same data directory, everything that
 * was acknowledged is there: both requests in the raw archive as received, the bad element in the
 * quarantine, the events on the bus (archive) and delivered to the profile writer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readRawDeliveries } from '../../core/ingest/raw-archive.ts';
import { generateWebhookKeys, signWebhook, type UnsignedWebhook } from '../../demo/vendor-webhooks.ts';
import { READY_LINE } from '../../local/cli.ts';
import type { HubHealth } from '../../local/hub.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC_URL = 'https://hooks.example.com';
const dataDir = mkdtempSync(join(tmpdir(), 'omnihub-raw-durability-'));
const keys = generateWebhookKeys(PUBLIC_URL);
const children = new Set<ChildProcess>();

interface HubProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launchHub(extra: Record<string, string> = {}): Promise<HubProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_') || name.startsWith('OMNIHUB_') || name === 'HOST') delete env[name];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: REPOSITORY_ROOT,
    env: {
      ...env,
      ...keys.secrets,
      PORT: '0',
      OMNIHUB_DATA_DIR: dataDir,
      OMNIHUB_PUBLIC_URL: PUBLIC_URL,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const ready = READY_LINE.exec(output);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolve({ url: ready[1], child, exited });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

async function post(hub: HubProcess, webhook: UnsignedWebhook): Promise<Response> {
  const request = signWebhook(webhook, keys);
  return fetch(`${hub.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const shopifyFixture = JSON.parse(
  readFileSync(new URL('../../connectors/shopify/fixtures/orders-create.json', import.meta.url), 'utf8'),
) as { request: { body: string; headers: Record<string, string> } };

describe('Local hub: raw archive and quarantine survive a SIGKILL after the 2xx', () => {
  it('keeps every acknowledged delivery where it can be translated from', { timeout: 90_000 }, async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const first = await launchHub({ OMNIHUB_LOCAL_CONSUMERS: 'paused' });
    const order = {
      connector: 'shopify',
      body: shopifyFixture.request.body,
      headers: Object.fromEntries(
        Object.entries(shopifyFixture.request.headers).filter(([name]) => !/hmac/i.test(name)),
      ),
    };
    const batch = {
      connector: 'sendgrid',
      body: JSON.stringify([
        {
          email: 'ada@example.com',
          timestamp: 1748779200,
          event: 'open',
          sg_event_id: 'b3Blbi0x',
          sg_message_id: 'm1',
        },
        {
          email: 'ada@example.com',
          timestamp: 'soon',
          event: 'open',
          sg_event_id: 'b3Blbi0y',
          sg_message_id: 'm1',
        },
      ]),
    };
    const answers = await Promise.all([post(first, order), post(first, batch)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const second = await launchHub();
    const until = new Date(Date.now() + 1000).toISOString();
    const raw = await (await fetch(`${second.url}/local/raw?from=${since}&to=${until}`)).text();
    const kept = readRawDeliveries(raw.split('\n'));
    expect(kept.map((delivery) => [delivery.connector, delivery.request.body.toString()]).sort()).toEqual(
      [
        ['sendgrid', batch.body],
        ['shopify', order.body],
      ].sort(),
    );
    const quarantine = (await (await fetch(`${second.url}/local/quarantine`)).json()) as {
      deliveryId: string;
    }[];
    expect(quarantine.map((item) => item.deliveryId)).toEqual(['b3Blbi0y']);
    const events = (await (await fetch(`${second.url}/local/events`)).json()) as {
      events: { event: { 'detail-type': string; detail: { origin: { deliveryId: string } } } }[];
    };
    expect(events.events.map((entry) => entry.event['detail-type']).sort()).toEqual([
      'message.opened',
      'order.placed',
    ]);
    // The events waited in the journal: the profile writer gets them after the restart.
    const deadline = Date.now() + 30_000;
    let health: HubHealth;
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      health = (await (await fetch(`${second.url}/health`)).json()) as HubHealth;
    } while (
      Date.now() < deadline &&
      health.consumers.some(
        (consumer) => consumer.queue.visible + consumer.queue.inFlight > 0 || consumer.invoking,
      )
    );
    const writer = health.consumers.find((consumer) => consumer.id === 'profile-writer');
    expect(writer?.queue).toMatchObject({ visible: 0, inFlight: 0 });
    expect(writer?.deadLetterQueue.visible).toBe(0);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
