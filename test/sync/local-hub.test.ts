/**
 * Fan-out sync end to end on the local hub (real topology, real handlers, dynalite, the hub's bus and
 * queues) against the fake vendor APIs:
 * - a Shopify `customers/update` that changes the phone reaches HubSpot, Square and SendGrid, never
 *   Shopify; HubSpot's signed echo webhook changes nothing and causes no call, ever;
 * - faults: a Retry-After longer than the in-process budget (the message waits in its queue), then
 *   500s: everything arrives once;
 * - a permanent 400 lands in the DLQ with its reason; `omnihub dlq redrive` delivers it once fixed;
 * - a reason quoting the person (HubSpot's "Email address ... is invalid") is kept and listed without them.
 */
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { dlqCommand } from '../../cli/commands/dlq.ts';
import { FakeHubSpot } from '../../connectors/hubspot/fake-api.ts';
import { FakeSendGrid } from '../../connectors/sendgrid/fake-api.ts';
import { FakeShopify } from '../../connectors/shopify/fake-api.ts';
import { FakeSquare } from '../../connectors/square/fake-api.ts';
import { generateWebhookKeys, type WebhookKeys } from '../../demo/vendor-webhooks.ts';
import { createTopology } from '../../lib/topology.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { postShopifyCustomer as postShopify, type ShopifyCustomer } from '../support/shopify-customers.ts';

const PUBLIC_URL = 'https://hooks.example.com';
const hubspot = new FakeHubSpot('hs-token');
const shopify = new FakeShopify('shpat-token');
const square = new FakeSquare('sq-token');
const sendgrid = new FakeSendGrid('SG.key');
let keys: WebhookKeys;
let hub: LocalHub;
/** Short waits: in-process retries in milliseconds, redeliveries through the queue in seconds. */
const SYNC = {
  delivery: {
    baseDelayMs: 20,
    maxDelayMs: 100,
    maxInProcessWaitMs: 2_000,
    timeoutMs: 2_000,
    retryFor: '1m',
    redeliveryDelay: { first: '1s', max: '2s' },
  },
};

beforeAll(async () => {
  await Promise.all([hubspot.start(), shopify.start(), square.start(), sendgrid.start()]);
  keys = generateWebhookKeys(PUBLIC_URL);
  hub = await startLocalHub({
    port: 0,
    dataDir: ':memory:',
    log: process.env.SYNC_TEST_LOG ? (line) => process.stderr.write(`${line}\n`) : () => {},
    env: {
      ...keys.secrets,
      OMNIHUB_PUBLIC_URL: PUBLIC_URL,
      HUBSPOT_ACCESS_TOKEN: 'hs-token',
      HUBSPOT_API_URL: hubspot.url,
      SHOPIFY_ADMIN_TOKEN: 'shpat-token',
      SHOPIFY_SHOP_DOMAIN: 'omnihub-demo.myshopify.com',
      SHOPIFY_API_URL: shopify.apiUrl,
      SQUARE_ACCESS_TOKEN: 'sq-token',
      SQUARE_API_URL: square.url,
      SENDGRID_API_KEY: 'SG.key',
      SENDGRID_API_URL: sendgrid.url,
      OMNIHUB_SYNC_CONFIG: JSON.stringify(SYNC),
    },
    topology: createTopology({ sync: SYNC }),
  });
});

afterAll(async () => {
  await hub?.stop();
  await Promise.all([hubspot.stop(), shopify.stop(), square.stop(), sendgrid.stop()]);
});

function postShopifyCustomer(
  topic: 'customers/create' | 'customers/update',
  customer: ShopifyCustomer,
): Promise<void> {
  return postShopify(hub.url, keys, topic, customer);
}

/** Vendor requests about one email so far (all four fakes), by fake. */
function callsAbout(email: string) {
  const mentions = (request: { body: unknown }) => JSON.stringify(request.body ?? '').includes(email);
  return {
    hubspot: hubspot.requests.filter(mentions),
    square: square.requests.filter(mentions),
    sendgrid: sendgrid.requests.filter(mentions),
    shopify: shopify.requests.filter(mentions),
  };
}

function counts(email: string) {
  const calls = callsAbout(email);
  return {
    hubspot: calls.hubspot.length,
    square: calls.square.length,
    sendgrid: calls.sendgrid.length,
    shopify: calls.shopify.length,
  };
}

describe('Fan-out sync on the local hub', () => {
  it('a Shopify phone change reaches HubSpot, Square and SendGrid, not Shopify; the HubSpot echo dies out', async () => {
    const ada = { id: 820000000001, email: 'ada@example.com', first: 'Ada', last: 'Lovelace' };
    await postShopifyCustomer('customers/create', {
      ...ada,
      phone: '+14155550100',
      updatedAt: '2025-04-22T14:30:00-05:00',
    });
    await hub.drain();
    // Created in each destination once; their ids are written back (customer.linked) without new calls.
    expect(counts(ada.email)).toEqual({ hubspot: 1, square: 1, sendgrid: 1, shopify: 0 });
    const hubspotId = [...hubspot.contacts.values()].find((c) => c.properties.email === ada.email)?.id ?? '';
    const squareId = [...square.customers.values()].find((c) => c.email_address === ada.email)?.id;
    expect(hubspotId).toMatch(/^\d+$/);

    await postShopifyCustomer('customers/update', {
      ...ada,
      phone: '+14155550199',
      updatedAt: '2025-04-23T09:15:00-05:00',
    });
    await hub.drain();
    expect(counts(ada.email)).toEqual({ hubspot: 2, square: 2, sendgrid: 2, shopify: 0 });
    // Square and HubSpot are addressed by the ids written back after the creation.
    const update = square.requests.at(-1);
    expect(update).toMatchObject({ method: 'PUT', path: `/v2/customers/${squareId}`, status: 200 });
    expect(update?.body).toEqual({
      given_name: 'Ada',
      family_name: 'Lovelace',
      email_address: 'ada@example.com',
      phone_number: '+14155550199',
    });
    expect(callsAbout(ada.email).hubspot.at(-1)?.body).toEqual({
      inputs: [
        {
          idProperty: 'hs_object_id',
          id: hubspotId,
          properties: {
            firstname: 'Ada',
            lastname: 'Lovelace',
            email: 'ada@example.com',
            phone: '+14155550199',
          },
        },
      ],
    });
    expect(sendgrid.contacts.get(ada.email)).toMatchObject({ phone_number: '+14155550199' });

    // HubSpot reports the change we just made, signed as HubSpot signs it.
    const echo = await hubspot.postPropertyChange(hub.url, keys, {
      objectId: hubspotId,
      propertyName: 'phone',
      propertyValue: '+14155550199',
    });
    expect(echo.status).toBe(200);
    const totalBefore =
      hubspot.requests.length + square.requests.length + sendgrid.requests.length + shopify.requests.length;
    await hub.drain();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await hub.drain();
    const totalAfter =
      hubspot.requests.length + square.requests.length + sendgrid.requests.length + shopify.requests.length;
    expect(totalAfter).toBe(totalBefore);
    expect(counts(ada.email)).toEqual({ hubspot: 2, square: 2, sendgrid: 2, shopify: 0 });
  });

  it('429 with a long Retry-After, then 500s: the message waits in its queue, everything arrives once', async () => {
    const bob = { id: 820000000002, email: 'bob@example.com', first: 'Bob', last: 'Norman' };
    hubspot.misbehave(
      {
        status: 429,
        headers: { 'retry-after': '3' },
        body: { status: 'error', policyName: 'TEN_SECONDLY_ROLLING' },
      },
      { status: 500, body: { status: 'error', message: 'internal error' } },
      { status: 503 },
      { status: 500, body: { status: 'error', message: 'internal error' } },
    );
    const started = Date.now();
    await postShopifyCustomer('customers/create', {
      ...bob,
      phone: '+14155550142',
      updatedAt: '2025-04-24T10:00:00-05:00',
    });
    await hub.drain({ timeoutMs: 30_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900); // the Retry-After was honoured
    const hubspotCalls = callsAbout(bob.email).hubspot;
    expect(hubspotCalls.map((request) => request.status)).toEqual([429, 500, 503, 500, 200]);
    expect([...hubspot.contacts.values()].filter((c) => c.properties.email === bob.email)).toHaveLength(1);
    // The other destinations were not held up and got bob exactly once.
    expect(callsAbout(bob.email).square.map((request) => request.status)).toEqual([200]);
    expect(callsAbout(bob.email).sendgrid.map((request) => request.status)).toEqual([202]);
  });

  it('a permanent 400 goes to the DLQ with its reason; redrive delivers it after the fix', async () => {
    const carol = { id: 820000000003, email: 'carol@example.com', first: 'Carol', last: 'Shaw' };
    hubspot.properties.delete('lastname'); // a portal without the property: HubSpot answers 400
    await postShopifyCustomer('customers/create', {
      ...carol,
      phone: '+14155550177',
      updatedAt: '2025-04-25T10:00:00-05:00',
    });
    await hub.drain();
    // Refused twice: for the Shopify change, and again for Square's id write-back (HubSpot never
    // received the record, so a change of the order stats' channel list is worth another try).
    expect(callsAbout(carol.email).hubspot.map((request) => request.status)).toEqual([400, 400]);
    expect(callsAbout(carol.email).square.map((request) => request.status)).toEqual([200]);

    const output: string[] = [];
    const io: CliIo = {
      out: (text) => output.push(text),
      err: (text) => output.push(text),
      interactive: false,
      env: {},
    };
    expect(await dlqCommand.run(['list', 'hubspot', '--api', hub.url], io)).toBe(0);
    const listing = output.join('\n');
    expect(listing).toContain('profile.updated');
    expect(listing).toContain('HTTP 400: VALIDATION_ERROR: Property "lastname" does not exist');
    expect(listing).toContain('2 message(s)');
    expect(listing).not.toContain(carol.email); // no personal data in the listing

    hubspot.properties.add('lastname');
    output.length = 0;
    expect(await dlqCommand.run(['redrive', 'hubspot', '--api', hub.url], io)).toBe(0);
    expect(output).toContain('redriven 2/2');
    await hub.drain();
    // The first redriven message delivers; the second finds HubSpot already up to date: no call.
    expect(callsAbout(carol.email).hubspot.map((request) => request.status)).toEqual([400, 400, 200]);
    expect(
      [...hubspot.contacts.values()].find((c) => c.properties.email === carol.email)?.properties,
    ).toMatchObject({
      firstname: 'Carol',
      lastname: 'Shaw',
    });
    output.length = 0;
    await dlqCommand.run(['list', 'hubspot', '--api', hub.url], io);
    expect(output.join('\n')).toContain('The dead-letter queue is empty.');
  });

  it("keeps the person a vendor's refusal quotes out of the dead letter's reason, and out of the listing", async () => {
    const dave = { id: 820000000004, email: 'dave.x@example.com', first: 'Dave', last: 'Ng' };
    // HubSpot's answer to an address it does not accept.
    const refusal = {
      status: 400,
      body: {
        status: 'error',
        message: `Property values were not valid: [{"isValid":false,"message":"Email address ${dave.email} is invalid","error":"INVALID_EMAIL","name":"email"}]`,
        category: 'VALIDATION_ERROR',
        correlationId: 'fake-correlation',
      },
    };
    hubspot.misbehave(refusal, refusal);
    await postShopifyCustomer('customers/create', {
      ...dave,
      phone: '+14155550188',
      updatedAt: '2025-04-26T10:00:00-05:00',
    });
    await hub.drain();
    expect(callsAbout(dave.email).hubspot.map((request) => request.status)).toContain(400);

    // As recorded on the message: no email.
    const sqs = new SQSClient({ endpoint: hub.url, region: hub.region, credentials: LOCAL_HUB_CREDENTIALS });
    const deadLetterUrl = hub.queueUrl('sync-hubspot-dlq');
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 0,
      }),
    );
    const reasons = Messages.map((message) => message.MessageAttributes?.['omnihub.error']?.StringValue);
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) {
      expect(reason).toContain('"message":"Email address [email] is invalid"');
      expect(reason).not.toContain(dave.email);
    }

    // One recorded before reasons were redacted: the listing redacts it.
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterUrl,
        MessageBody: '{}',
        MessageAttributes: {
          'omnihub.error': {
            DataType: 'String',
            StringValue: 'HTTP 400: Email address erin@example.com is invalid',
          },
        },
      }),
    );
    sqs.destroy();
    for (const format of [[], ['--json']]) {
      const output: string[] = [];
      const io: CliIo = {
        out: (text) => output.push(text),
        err: (text) => output.push(text),
        interactive: false,
        env: {},
      };
      expect(await dlqCommand.run(['list', 'hubspot', '--api', hub.url, ...format], io)).toBe(0);
      const listing = output.join('\n');
      expect(listing).toContain('Email address [email] is invalid');
      expect(listing).not.toContain('erin@example.com');
      if (format.length === 0) expect(listing).not.toContain(dave.email);
    }
  });
});
