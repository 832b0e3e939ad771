/**
 * End to end on the local hub with the real topology: a signed delivery of each connector travels
 * HTTP -> ingest handler -> PutEvents -> bus archive, and the same delivery posted twice appears once.
 *
 * Square, Twilio, Shopify and HubSpot v1 use their fixtures exactly as signed with the vendors' SDKs.
 * The schemes that sign a timestamp (HubSpot v3, SendGrid) are re-signed at run time, the way the
 * vendor signs them, by `demo/vendor-webhooks.ts` (SendGrid with a fresh key pair).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookKeys, signWebhook, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { loadFixtureCases, type WebhookFixture } from '../support/ingest.ts';

const PUBLIC_URL = 'https://hooks.example.com';

function pick(connector: string, file?: string): WebhookFixture {
  const found = loadFixtureCases().find(
    (c) =>
      c.connector === connector &&
      (file
        ? c.file === file
        : c.fixture.expect.status === 200 && (c.fixture.expect.events?.length ?? 0) > 0),
  );
  if (!found) throw new Error(`no fixture for ${connector}`);
  return found.fixture;
}

interface Delivery {
  readonly name: string;
  readonly fixture: WebhookFixture;
  /** Re-signed now, as the vendor would, rather than sent with the fixture's fixed signature. */
  readonly signAtRunTime?: string;
}

const deliveries: Delivery[] = [
  { name: 'square', fixture: pick('square') },
  { name: 'twilio', fixture: pick('twilio') },
  { name: 'hubspot v1', fixture: pick('hubspot', 'contact-creation-v1.json') },
  { name: 'shopify', fixture: pick('shopify') },
  {
    name: 'hubspot v3',
    fixture: pick('hubspot', 'contact-property-change-traits-v3.json'),
    signAtRunTime: 'hubspot',
  },
  { name: 'sendgrid', fixture: pick('sendgrid', 'batch.json'), signAtRunTime: 'sendgrid' },
];

const SIGNATURE_HEADERS =
  /^(x-hubspot-signature.*|x-hubspot-request-timestamp|x-twilio-email-event-webhook-(signature|timestamp))$/i;

let keys: WebhookKeys;
let hub: LocalHub;
beforeAll(async () => {
  const generated = generateWebhookKeys(PUBLIC_URL);
  const fixtureSecrets = Object.assign(
    {},
    ...deliveries
      .filter((d) => !d.signAtRunTime || d.signAtRunTime === 'hubspot')
      .map((d) => d.fixture.secrets),
  ) as Record<string, string>;
  // HubSpot v1 fixtures are signed with the fixture's client secret: the run-time v3 signature uses it too.
  keys = {
    ...generated,
    secrets: {
      ...fixtureSecrets,
      SENDGRID_WEBHOOK_PUBLIC_KEY: generated.secrets.SENDGRID_WEBHOOK_PUBLIC_KEY ?? '',
    },
  };
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    consumers: 'paused',
    env: { ...keys.secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    log: () => {},
  });
});
afterAll(async () => hub?.stop());

async function post(delivery: Delivery): Promise<Response> {
  const { request } = delivery.fixture;
  const body =
    request.bodyBase64 !== undefined
      ? Buffer.from(request.bodyBase64, 'base64').toString('utf8')
      : (request.body ?? '');
  if (delivery.signAtRunTime) {
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !SIGNATURE_HEADERS.test(name)),
    );
    const signed = signWebhook(
      {
        connector: delivery.signAtRunTime,
        body,
        headers,
        ...(request.query ? { query: request.query } : {}),
      },
      keys,
    );
    return fetch(`${hub.url}${signed.path}`, { method: 'POST', headers: signed.headers, body: signed.body });
  }
  const query = request.query ? `?${request.query}` : '';
  return fetch(`${hub.url}${request.path}${query}`, {
    method: 'POST',
    headers: request.headers,
    body: request.bodyBase64 !== undefined ? Buffer.from(request.bodyBase64, 'base64') : body,
  });
}

interface ArchivedEvent {
  event: { id: string; source: string; 'detail-type': string };
}

async function archivedIds(): Promise<Map<string, ArchivedEvent>> {
  const response = await fetch(`${hub.url}/local/events?limit=1000`);
  const body = (await response.json()) as { events: ArchivedEvent[] };
  return new Map(body.events.map((item) => [item.event.id, item]));
}

describe('End to end: signed deliveries through the local hub', () => {
  it.each(deliveries)('$name: published once, even when posted twice', async (delivery) => {
    const before = await archivedIds();
    const first = await post(delivery);
    expect(first.status, await first.clone().text()).toBe(200);
    const second = await post(delivery);
    expect(second.status, await second.clone().text()).toBe(200);

    const added = [...(await archivedIds()).values()].filter((item) => !before.has(item.event.id));
    expect(added.map((item) => item.event['detail-type'])).toEqual(
      delivery.fixture.expect.events?.map((e) => e.type),
    );
    const connector = delivery.fixture.request.path.split('/').at(-1);
    expect(new Set(added.map((item) => item.event.source))).toEqual(new Set([`omnihub.${connector}`]));
  });
});
