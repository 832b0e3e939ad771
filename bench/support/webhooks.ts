/**
 * Realistic webhooks for the benchmarks, built from the connectors' real-format fixtures: a small and
 * a large one per connector, each with unique vendor ids per sequence number (so the ledger sees a
 * new delivery every time), signed as the vendor signs them (`demo/vendor-webhooks.ts`, with each connector's `signer.ts`).
 */
import { readFileSync } from 'node:fs';
import type { WebhookRequest } from '../../core/connector.ts';
import {
  type SignedWebhook,
  signWebhook,
  type UnsignedWebhook,
  type WebhookKeys,
} from '../../demo/vendor-webhooks.ts';
import type { WebhookFixture } from '../../test/support/ingest.ts';

/** The connectors the benchmarks post as, each with payloads built from its fixtures below. */
export const CONNECTORS = ['shopify', 'hubspot', 'square', 'sendgrid', 'twilio'] as const;
export type VendorId = (typeof CONNECTORS)[number];
export type PayloadSize = 'small' | 'large';

function fixture(connector: VendorId, file: string): WebhookFixture {
  const url = new URL(`../../connectors/${connector}/fixtures/${file}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as WebhookFixture;
}

/** Fixture headers minus the signature headers (they are re-signed with the benchmark's keys). */
function plainHeaders(source: WebhookFixture): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.request.headers)) {
    if (!/signature|hmac|timestamp/i.test(name)) headers[name.toLowerCase()] = value;
  }
  return headers;
}

type Json = Record<string, unknown>;

const shopifyOrder = fixture('shopify', 'orders-create.json');
const sendgridBatch = fixture('sendgrid', 'batch.json');
const hubspotBatch = fixture('hubspot', 'contact-batch-v3.json');
const squareCustomer = fixture('square', 'customer-created.json');
const squarePayment = fixture('square', 'payment-updated-completed.json');
const twilioStatus = fixture('twilio', 'status-delivered.json');
const twilioInbound = fixture('twilio', 'inbound-message.json');

const hex = (seq: number) => seq.toString(16).padStart(32, '0');

/** What each size is, per connector (printed in the report). */
export const PAYLOADS: Readonly<Record<VendorId, Readonly<Record<PayloadSize, string>>>> = {
  shopify: { small: 'orders/create, 2 line items', large: 'orders/create, 40 line items' },
  hubspot: { small: 'v3 batch of 1 contact event', large: 'v3 batch of 100 contact events (the maximum)' },
  square: { small: 'customer.created', large: 'payment.updated (COMPLETED)' },
  sendgrid: { small: 'batch of 1 event', large: 'batch of 500 events' },
  twilio: { small: 'status callback (delivered)', large: 'inbound message' },
};

/** The unsigned webhook number `seq` of a connector and size. */
export function webhookOf(connector: VendorId, size: PayloadSize, seq: number): UnsignedWebhook {
  switch (connector) {
    case 'shopify': {
      const order = JSON.parse(shopifyOrder.request.body ?? '{}') as Json & { line_items: Json[] };
      if (size === 'large') {
        const template = order.line_items;
        order.line_items = Array.from({ length: 40 }, (_, i) => ({
          ...(template[i % template.length] as Json),
          id: 1_000_000 + i,
          sku: `SKU-${i}`,
        }));
      }
      order.id = 5_000_000 + seq;
      return {
        connector,
        body: JSON.stringify(order),
        headers: {
          ...plainHeaders(shopifyOrder),
          'x-shopify-webhook-id': `bench-${seq}`,
          'x-shopify-event-id': `bench-event-${seq}`,
        },
      };
    }
    case 'sendgrid': {
      const events = JSON.parse(sendgridBatch.request.body ?? '[]') as Json[];
      const translated = events.filter((event) => event.event !== 'processed');
      const count = size === 'large' ? 500 : 1;
      const batch = Array.from({ length: count }, (_, i) => ({
        ...(translated[i % translated.length] as Json),
        sg_event_id: `bench-${seq}-${i}`,
      }));
      // SendGrid writes `\r\n` after every event.
      return { connector, body: `[${batch.map((event) => JSON.stringify(event)).join(',\r\n')}]\r\n` };
    }
    case 'hubspot': {
      const elements = JSON.parse(hubspotBatch.request.body ?? '[]') as Json[];
      const count = size === 'large' ? 100 : 1;
      const batch = Array.from({ length: count }, (_, i) => ({
        ...(elements[i % elements.length] as Json),
        eventId: seq * 1000 + i,
        occurredAt: Date.now(),
      }));
      return { connector, body: JSON.stringify(batch), headers: plainHeaders(hubspotBatch) };
    }
    case 'square': {
      const source = size === 'large' ? squarePayment : squareCustomer;
      const event = JSON.parse(source.request.body ?? '{}') as Json & { data: { object: Json } };
      event.event_id = `bench-${seq}`;
      const payment = event.data.object.payment as Json | undefined;
      if (payment) payment.id = `BENCH${seq}`;
      return { connector, body: JSON.stringify(event), headers: plainHeaders(source) };
    }
    case 'twilio': {
      const source = size === 'large' ? twilioInbound : twilioStatus;
      const form = new URLSearchParams(source.request.body ?? '');
      for (const name of ['MessageSid', 'SmsSid', 'SmsMessageSid'])
        if (form.has(name)) form.set(name, `SM${hex(seq)}`);
      return { connector, body: form.toString(), headers: plainHeaders(source) };
    }
  }
}

/** The request the pipeline sees for a signed webhook (what `toWebhookRequest` makes of the HTTP event). */
export function pipelineRequest(
  signed: SignedWebhook,
  keys: WebhookKeys,
  receivedAt = new Date(),
): WebhookRequest {
  const queryStart = signed.path.indexOf('?');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return {
    method: 'POST',
    path: queryStart === -1 ? signed.path : signed.path.slice(0, queryStart),
    rawQueryString: queryStart === -1 ? '' : signed.path.slice(queryStart + 1),
    headers,
    body: Buffer.from(signed.body, 'utf8'),
    publicUrl: `${keys.publicUrl.replace(/\/$/, '')}${signed.path}`,
    receivedAt,
  };
}

export function signed(
  connector: VendorId,
  size: PayloadSize,
  seq: number,
  keys: WebhookKeys,
): SignedWebhook {
  return signWebhook(webhookOf(connector, size, seq), keys);
}
