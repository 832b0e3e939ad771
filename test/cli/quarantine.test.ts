/**
 * The quarantine end to end on a local hub: signed webhooks with bad deliveries are answered 2xx,
 * their items are listed by `GET /local/quarantine` and `omnihub quarantine list` (table and
 * `--json`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { main } from '../../cli/main.ts';
import { generateWebhookKeys, signWebhook, type UnsignedWebhook } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';

const PUBLIC_URL = 'https://hooks.example.com';
const keys = generateWebhookKeys(PUBLIC_URL);
let hub: LocalHub;

function collect(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (text) => out.push(text), err: (text) => err.push(text), interactive: false, env: {} },
    out,
    err,
  };
}

async function post(webhook: UnsignedWebhook): Promise<Response> {
  const request = signWebhook(webhook, keys);
  return fetch(`${hub.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
}

const delivered = (id: string, extra: Record<string, unknown> = {}) => ({
  email: 'ada.lovelace@example.com',
  timestamp: 1748779200,
  event: 'delivered',
  sg_event_id: id,
  sg_message_id: `${id}.filter0001`,
  ...extra,
});

beforeAll(async () => {
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    log: () => {},
  });
  const batch = await post({
    connector: 'sendgrid',
    body: JSON.stringify([
      delivered('ZGVsaXZlcmVkLTE'),
      delivered('ZGVsaXZlcmVkLTI', { timestamp: 'the day after tomorrow' }),
    ]),
  });
  expect(batch.status).toBe(200);
  expect(await batch.json()).toMatchObject({ received: 2, published: 1, quarantined: 1 });
  const order = await post({
    connector: 'shopify',
    body: JSON.stringify({ id: 820982911946154500, email: 'grace@example.com', currency: 'USD' }),
    headers: {
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    },
  });
  expect(order.status).toBe(200);
});

afterAll(async () => {
  await hub?.stop();
});

const EXPECTED = [
  {
    connector: 'sendgrid',
    deliveryId: 'ZGVsaXZlcmVkLTI',
    topic: 'delivered',
    reason: 'does not match the delivered payload: timestamp: Unix seconds or milliseconds',
  },
  {
    connector: 'shopify',
    deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    topic: 'orders/create',
    reason: expect.stringMatching(/^does not match the orders\/create payload: \w+/),
  },
];

describe('Quarantine on the local hub', () => {
  it('serves the items at GET /local/quarantine, oldest first, by connector on request', async () => {
    const all = (await (await fetch(`${hub.url}/local/quarantine`)).json()) as Record<string, unknown>[];
    expect(all).toEqual(EXPECTED.map((item) => ({ ...item, receivedAt: expect.any(String) })));
    expect(Object.keys(all[0] ?? {})).toEqual(['connector', 'deliveryId', 'topic', 'reason', 'receivedAt']);
    const sendgrid = await (await fetch(`${hub.url}/local/quarantine?connector=sendgrid`)).json();
    expect(sendgrid).toEqual([all[0]]);
    const bad = await fetch(`${hub.url}/local/quarantine?who=me`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'bad_request' });
  });

  it('lists them with omnihub quarantine list, as a table and as JSON', async () => {
    const table = collect();
    expect(await main(['quarantine', 'list', '--api', hub.url], table.io)).toBe(0);
    const [header, rule, first, second] = table.out.join('\n').split('\n');
    expect(header).toMatch(/^connector\s+deliveryId\s+topic\s+reason\s+receivedAt$/);
    expect(rule).toMatch(/^-+ +-+/);
    expect(first).toMatch(
      /^sendgrid\s+ZGVsaXZlcmVkLTI\s+delivered\s+does not match the delivered payload: timestamp/,
    );
    expect(second).toMatch(
      /^shopify\s+b54557e4-bdd9-4b37-8a5f-bf7d70bcd043\s+orders\/create\s+does not match/,
    );
    expect(table.out.join('\n')).toContain('2 item(s)');

    const json = collect();
    expect(
      await main(['quarantine', 'list', '--connector', 'shopify', '--json', '--api', hub.url], json.io),
    ).toBe(0);
    expect(JSON.parse(json.out.join('\n'))).toEqual([{ ...EXPECTED[1], receivedAt: expect.any(String) }]);
  });

  it('refuses an unknown connector and a missing subcommand with the usage', async () => {
    const unknown = collect();
    expect(await main(['quarantine', 'list', '--connector', 'mailchimp', '--api', hub.url], unknown.io)).toBe(
      2,
    );
    expect(unknown.err.join('\n')).toContain('unknown connector mailchimp');
    const bare = collect();
    expect(await main(['quarantine'], bare.io)).toBe(2);
    expect(bare.err.join('\n')).toContain('Usage:');
  });
});
