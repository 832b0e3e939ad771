/**
 * End to end on the local hub with the real topology: a signed delivery of each connector travels
 * HTTP -> ingest handler -> PutEvents -> bus archive, and the same delivery posted twice appears once.
 *
 * Uses each connector's time-independent fixtures (schemes that sign a timestamp, HubSpot v3 and
 * SendGrid, are covered by their fixture tests with a fixed clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const deliveries = [
  { connector: 'square', fixture: pick('square') },
  { connector: 'twilio', fixture: pick('twilio') },
  { connector: 'hubspot', fixture: pick('hubspot', 'contact-creation-v1.json') },
  { connector: 'shopify', fixture: pick('shopify') },
];

let hub: LocalHub;
beforeAll(async () => {
  const secrets = Object.assign({}, ...deliveries.map((d) => d.fixture.secrets)) as Record<string, string>;
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    consumers: 'paused',
    env: { ...secrets, OMNIHUB_PUBLIC_URL: PUBLIC_URL },
    log: () => {},
  });
});
afterAll(async () => hub?.stop());

async function post(fixture: WebhookFixture): Promise<Response> {
  const { request } = fixture;
  const query = request.query ? `?${request.query}` : '';
  return fetch(`${hub.url}${request.path}${query}`, {
    method: 'POST',
    headers: request.headers,
    body: request.bodyBase64 !== undefined ? Buffer.from(request.bodyBase64, 'base64') : (request.body ?? ''),
  });
}

interface ArchivedEvent {
  event: { source: string; 'detail-type': string; detail: { origin: { deliveryId: string } } };
}

describe('End to end: signed deliveries through the local hub', () => {
  it.each(deliveries)(
    '$connector: published once, even when posted twice',
    async ({ connector, fixture }) => {
      const first = await post(fixture);
      expect(first.status, await first.clone().text()).toBe(200);
      const second = await post(fixture);
      expect(second.status).toBe(200);

      const response = await fetch(`${hub.url}/local/events?limit=1000`);
      const body = (await response.json()) as { events: ArchivedEvent[] };
      const mine = body.events.filter((item) => item.event.source === `omnihub.${connector}`);
      expect(mine.map((item) => item.event['detail-type'])).toEqual(
        fixture.expect.events?.map((e) => e.type),
      );
    },
  );
});
