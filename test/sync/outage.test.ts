/**
 * Fan-out sync through vendor outages, end to end on the local hub: the real sync consumers, their
 * queues with the topology's redrive policy, and `ChangeMessageVisibility` over the hub's SQS API
 * carrying every wait. Time is scaled through the sync configuration only (the code path is the one
 * deployed): the redelivery ceilings 1 s -> 3 s stand for the defaults 30 s -> 15 min (the first
 * cannot be shorter: visibility timeouts are whole seconds), so 12 s stand for an hour; `retryFor`
 * is 15 s, a little longer than that hour.
 *
 * One timeline, three vendors, one person changed twice (1 s apart) while they fail:
 * - HubSpot answers 500 for the hour: nothing is dead-lettered, and after it recovers the profile is
 *   delivered once, with the newer change (the older message finds HubSpot up to date);
 * - Square resets every connection for longer than `retryFor`: both changes are tried until then and
 *   dead-lettered by the consumer, with a reason saying `retryFor` ran out;
 * - SendGrid refuses with a 400: each change is dead-lettered at once, after one request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { dlqCommand } from '../../cli/commands/dlq.ts';
import { FakeHubSpot } from '../../connectors/hubspot/fake-api.ts';
import { FakeSendGrid } from '../../connectors/sendgrid/fake-api.ts';
import { FakeSquare } from '../../connectors/square/fake-api.ts';
import { generateWebhookKeys, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { createTopology, selectTopology } from '../../lib/topology.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import type { RecordedRequest } from '../support/fake-vendor.ts';
import { postShopifyCustomer } from '../support/shopify-customers.ts';

const PUBLIC_URL = 'https://hooks.example.com';
/** An hour of outage, at the scale of the configuration below. */
const HOUR_MS = 12_000;
const RETRY_FOR_MS = 15_000;
const SYNC = {
  delivery: {
    maxAttempts: 3,
    baseDelayMs: 5,
    maxDelayMs: 20,
    maxInProcessWaitMs: 1_000,
    timeoutMs: 2_000,
    retryFor: '15s',
    redeliveryDelay: { first: '1s', max: '3s' },
  },
};

const hubspot = new FakeHubSpot('hs-token');
const square = new FakeSquare('sq-token');
const sendgrid = new FakeSendGrid('SG.key');
let keys: WebhookKeys;
let hub: LocalHub;

beforeAll(async () => {
  await Promise.all([hubspot.start(), square.start(), sendgrid.start()]);
  keys = generateWebhookKeys(PUBLIC_URL);
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    log: process.env.SYNC_TEST_LOG ? (line) => process.stderr.write(`${line}\n`) : () => {},
    topology: selectTopology(createTopology({ sync: SYNC }), {
      connectors: ['shopify'],
      destinations: ['hubspot', 'square', 'sendgrid'],
    }),
    env: {
      ...keys.secrets,
      OMNIHUB_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'hs-token',
      HUBSPOT_API_URL: hubspot.url,
      SQUARE_ACCESS_TOKEN: 'sq-token',
      SQUARE_API_URL: square.url,
      SENDGRID_API_KEY: 'SG.key',
      SENDGRID_API_URL: sendgrid.url,
      OMNIHUB_SYNC_CONFIG: JSON.stringify(SYNC),
    },
  });
});

afterAll(async () => {
  await hub?.stop();
  await Promise.all([hubspot.stop(), square.stop(), sendgrid.stop()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Messages in a consumer's DLQ right now. */
function deadLetterCount(consumerId: string): number {
  const consumer = hub.health().consumers.find((candidate) => candidate.id === consumerId);
  if (!consumer) throw new Error(`no consumer ${consumerId}`);
  const { visible, inFlight, delayed } = consumer.deadLetterQueue;
  return visible + inFlight + delayed;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not so after ${timeoutMs} ms`);
    await sleep(50);
  }
}

interface DeadLetter {
  readonly reason?: string;
  readonly status?: string;
  readonly failedAt?: string;
}

/** `omnihub dlq list <destination> --json`, as an operator would read it. */
async function deadLetters(destination: string): Promise<DeadLetter[]> {
  const lines: string[] = [];
  const io: CliIo = { out: (text) => lines.push(text), err: () => {}, interactive: false, env: {} };
  expect(await dlqCommand.run(['list', destination, '--api', hub.url, '--json'], io)).toBe(0);
  return lines.map((line) => JSON.parse(line) as DeadLetter);
}

const about = (email: string) => (request: RecordedRequest) =>
  JSON.stringify(request.body ?? '').includes(email);

describe('Fan-out sync through vendor outages (local hub, 1 h simulated in 12 s)', () => {
  it('heals an outage of an hour with no operator, gives up after retryFor, refuses a 400 at once', async () => {
    const ada = { id: 820000000101, email: 'ada.outage@example.com', first: 'Ada', last: 'Lovelace' };
    hubspot.goDown({ status: 500, body: { status: 'error', message: 'internal error' } });
    square.goDown('reset');
    sendgrid.goDown({
      status: 400,
      body: { errors: [{ field: 'phone_number', message: 'invalid format' }] },
    });
    const start = Date.now();
    await postShopifyCustomer(hub.url, keys, 'customers/create', {
      ...ada,
      phone: '+14155550101',
      updatedAt: '2025-06-02T10:00:00-05:00',
    });

    // SendGrid's 400 is permanent: dead-lettered on the first receive, after one request.
    await until(() => deadLetterCount('sync-sendgrid') === 1, 5_000);
    expect(sendgrid.requests.filter(about(ada.email)).map((request) => request.status)).toEqual([400]);

    // A newer change while HubSpot and Square are still down.
    await sleep(start + 1_000 - Date.now());
    await postShopifyCustomer(hub.url, keys, 'customers/update', {
      ...ada,
      phone: '+14155550199',
      updatedAt: '2025-06-02T10:30:00-05:00',
    });

    // Through the hour, both failing destinations are tried again and again; nothing is given up.
    let deadLetteredDuringOutage = 0;
    while (Date.now() < start + HOUR_MS) {
      deadLetteredDuringOutage = Math.max(
        deadLetteredDuringOutage,
        deadLetterCount('sync-hubspot') + deadLetterCount('sync-square'),
      );
      await sleep(100);
    }
    expect(deadLetteredDuringOutage).toBe(0);
    const duringOutage = hubspot.requests.filter(about(ada.email));
    expect(new Set(duringOutage.map((request) => request.status))).toEqual(new Set([500]));
    // Still tried late in the hour (a receive comes at most 3 s, plus the batching window, after the last).
    expect(duringOutage.at(-1)?.at).toBeGreaterThan(start + HOUR_MS - 5_000);
    hubspot.recover();

    // HubSpot gets the person once, as they are now; Square's changes run out of retryFor meanwhile.
    await hub.drain({ timeoutMs: RETRY_FOR_MS + 10_000 });
    const applied = hubspot.applied.filter(about(ada.email));
    expect(applied).toHaveLength(1);
    expect(applied[0]?.body).toEqual({
      inputs: [
        {
          idProperty: 'email',
          id: ada.email,
          properties: { firstname: 'Ada', lastname: 'Lovelace', email: ada.email, phone: '+14155550199' },
        },
      ],
    });
    expect(
      [...hubspot.contacts.values()].find((c) => c.properties.email === ada.email)?.properties,
    ).toMatchObject({ phone: '+14155550199' });
    expect(deadLetterCount('sync-hubspot')).toBe(0);

    const squareLetters = await deadLetters('square');
    expect(squareLetters).toHaveLength(2);
    for (const letter of squareLetters) {
      expect(letter.reason).toMatch(
        /^retryFor \(15s\) ran out; last failure: square: .*TypeError: fetch failed/,
      );
      expect(Date.parse(letter.failedAt ?? '')).toBeGreaterThanOrEqual(start + RETRY_FOR_MS);
    }
    const squareCalls = square.requests.filter(about(ada.email));
    expect(squareCalls.every((request) => request.status === 0)).toBe(true);
    // The receive that gave up was made after retryFor, and tried Square once more first.
    expect(squareCalls.at(-1)?.at).toBeGreaterThanOrEqual(start + RETRY_FOR_MS);

    // Every SendGrid request was refused and dead-lettered at once, never tried again.
    const sendgridCalls = sendgrid.requests.filter(about(ada.email));
    const sendgridLetters = await deadLetters('sendgrid');
    expect(sendgridLetters).toHaveLength(sendgridCalls.length);
    expect(sendgridLetters.length).toBeGreaterThanOrEqual(2);
    expect(sendgridLetters.map((letter) => letter.status)).toEqual(sendgridLetters.map(() => '400'));

    square.recover();
    sendgrid.recover();
  });
});
