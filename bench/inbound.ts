/**
 * Inbound overhead, in-process and side by side:
 *
 * - **ours**: the full ingest pipeline of a connector (verify -> parse -> validate -> translate ->
 *   envelopes checked against the catalog -> dedupe in an in-memory ledger -> PutEvents requests
 *   serialised and SigV4-signed), with the HTTP exchange stubbed by a canned PutEvents answer, the
 *   logger at INFO (output discarded) and the metrics flushed per request as `logMetrics` does;
 * - **floor**: the signature check alone (the connector's own verifier) plus `JSON.parse` of the body,
 *   or form parsing for Twilio;
 * - **peer**: what a user would write by hand: the vendor SDK's verifier, `JSON.parse`, a plain
 *   mapping to one event per vendor event, and the AWS SDK's `PutEventsCommand` with the same
 *   canned answer at its transport;
 * - **validation**, **translation** and **bus**: three steps of ours measured alone, for the least
 *   any ingest keeping them could cost. Validation is the connector's zod schemas on the deliveries
 *   of the body (split beforehand); translation, its translators on the validated payloads (identity
 *   normalisation included: E.164 phones); bus, the PutEvents requests ours sends for the body, sent
 *   again: serialised and SigV4-signed by the same client. The floor plus these three is a lower
 *   bound: it leaves out the catalog check, event ids, the ledger, the log line and metrics.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { Signature as HubSpotSignature } from '@hubspot/api-client';
import { EventWebhook } from '@sendgrid/eventwebhook';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { WebhooksHelper } from 'square';
import twilio from 'twilio';
import { connectors } from '../connectors/index.ts';
import { FIREHOSE } from '../core/aws/firehose.ts';
import { type AwsHttpTransport, AwsJsonClient, EVENTBRIDGE } from '../core/aws/json-client.ts';
import { PutEventsPublisher, putEventsOverJson } from '../core/aws/put-events.ts';
import type { ConnectorDefinition, WebhookRequest } from '../core/connector.ts';
import { parseForm } from '../core/ingest/body.ts';
import { type DeliveryLedger, InMemoryDeliveryLedger } from '../core/ingest/ledger.ts';
import { createIngestPipeline, type IngestPipeline } from '../core/ingest/pipeline.ts';
import { InMemoryQuarantine } from '../core/ingest/quarantine.ts';
import { FirehoseRawArchive } from '../core/ingest/raw-archive.ts';
import { EnvironmentSecretSource } from '../core/secrets.ts';
import { generateWebhookKeys, type WebhookKeys } from '../demo/vendor-webhooks.ts';
import { median, sideBySide } from './support/stats.ts';
import {
  CONNECTORS,
  PAYLOADS,
  type PayloadSize,
  pipelineRequest,
  signed,
  type VendorId,
} from './support/webhooks.ts';

export interface InboundRow {
  readonly connector: VendorId;
  readonly size: PayloadSize;
  readonly payload: string;
  readonly bytes: number;
  readonly events: number;
  /** Median per-request milliseconds. */
  readonly ours: number;
  readonly floor: number;
  readonly peer: number;
  /** The connector's zod validation of the deliveries alone. */
  readonly validation: number;
  /** The connector's translators on the validated payloads alone. */
  readonly translation: number;
  /** Serialising and signing ours' PutEvents requests alone. */
  readonly bus: number;
}

/** The least an ingest that verifies, parses, validates, translates and publishes could cost. */
export function leastOfSteps(row: InboundRow): number {
  return row.floor + row.validation + row.translation + row.bus;
}

const BUS = 'omnihub-bench';
const AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench-secret',
  AWS_ENDPOINT_URL_EVENTBRIDGE: 'https://events.us-east-1.amazonaws.com',
};

/** Every PutEvents entry names its bus, once: counting the key counts the entries. */
const ENTRY_KEY = '"EventBusName"';
const ENTRY_MARK = Buffer.from(ENTRY_KEY);

/** Entries in a PutEvents request body: a string (ours), or bytes (the AWS SDK's JSON codec). */
function entriesIn(body: string | Uint8Array): number {
  if (typeof body === 'string') return body.split(ENTRY_KEY).length - 1;
  // Bytes are searched in place: decoding them would cost the SDK peer a step its real transport
  // does not take (it writes the bytes to the socket).
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let entries = 0;
  for (let at = bytes.indexOf(ENTRY_MARK); at !== -1; at = bytes.indexOf(ENTRY_MARK, at + ENTRY_MARK.length))
    entries++;
  return entries;
}

/** PutEvents' answer for a request body, one result per entry, as EventBridge writes it. */
function putEventsAnswer(body: string | Uint8Array): string {
  const entries = entriesIn(body);
  let answer = '{"FailedEntryCount":0,"Entries":[';
  for (let i = 0; i < entries; i++)
    answer += `${i ? ',' : ''}{"EventId":"11710aed-b79e-4468-a20b-bb3c0c3b4860"}`;
  return `${answer}]}`;
}

/** The canned exchange at our client's transport; `seen` collects the request bodies. */
function cannedTransport(seen?: string[]): AwsHttpTransport {
  return async (_url, _headers, body) => {
    seen?.push(body);
    return {
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: putEventsAnswer(body),
    };
  };
}

/** Firehose's answer to a PutRecordBatch that took every record. */
const cannedFirehoseTransport: AwsHttpTransport = async (_url, _headers, body) => {
  const records = (JSON.parse(body) as { Records: unknown[] }).Records;
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({
      FailedPutCount: 0,
      Encrypted: true,
      RequestResponses: records.map((_, index) => ({ RecordId: String(index) })),
    }),
  };
};

/** The same canned exchange at the AWS SDK's transport (its `requestHandler`). */
function cannedSdkClient(): EventBridgeClient {
  return new EventBridgeClient({
    region: AWS_ENV.AWS_REGION,
    credentials: { accessKeyId: AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: AWS_ENV.AWS_SECRET_ACCESS_KEY },
    requestHandler: {
      async handle(request: { body?: string | Uint8Array }) {
        const answer = putEventsAnswer(request.body ?? '');
        return {
          response: {
            statusCode: 200,
            reason: 'OK',
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: new TextEncoder().encode(answer),
          },
        };
      },
    } as never,
  });
}

/** Powertools writes logs and EMF with `console` on stdout: keep the formatting, drop the bytes. */
export function muteStdout(): () => void {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

/** An in-memory ledger that forgets between requests, so every repetition is a new delivery. */
class ForgetfulLedger implements DeliveryLedger {
  #ledger = new InMemoryDeliveryLedger();
  forget() {
    this.#ledger = new InMemoryDeliveryLedger();
  }
  reserve(keys: readonly string[], remainingTimeMs: number) {
    return this.#ledger.reserve(keys, remainingTimeMs);
  }
  complete(keys: readonly string[], digests?: ReadonlyMap<string, string>) {
    return this.#ledger.complete(keys, digests);
  }
  published(keys: readonly string[]) {
    return this.#ledger.published(keys);
  }
  release(keys: readonly string[]) {
    return this.#ledger.release(keys);
  }
}

export function ours(connector: ConnectorDefinition, keys: WebhookKeys, seen?: string[]) {
  const ledger = new ForgetfulLedger();
  const metrics = new Metrics({ namespace: 'OmnihubBench', serviceName: 'bench' });
  const pipeline: IngestPipeline = createIngestPipeline(connector, {
    secrets: new EnvironmentSecretSource(keys.secrets),
    ledger,
    publisher: new PutEventsPublisher({
      busName: BUS,
      putEvents: putEventsOverJson(
        new AwsJsonClient(EVENTBRIDGE, { env: AWS_ENV, transport: cannedTransport(seen) }),
      ),
    }),
    // Benchmark webhooks are all valid: nothing is quarantined.
    quarantine: new InMemoryQuarantine(),
    // Every webhook is archived raw, as in AWS: gzip, records, a signed PutRecordBatch (answered canned).
    archive: new FirehoseRawArchive({
      streamPrefix: 'omnihub-bench-raw-',
      client: new AwsJsonClient(FIREHOSE, { env: AWS_ENV, transport: cannedFirehoseTransport }),
    }),
    logger: new Logger({ serviceName: 'bench', logLevel: 'INFO' }),
    metrics,
  });
  return async (request: WebhookRequest) => {
    ledger.forget();
    const response = await pipeline(request, { remainingTimeMs: 10_000, correlationId: 'bench' });
    metrics.publishStoredMetrics();
    if (response.statusCode !== 200)
      throw new Error(`${connector.id}: ${response.statusCode} ${response.body}`);
    return response;
  };
}

export function floor(connector: ConnectorDefinition, keys: WebhookKeys) {
  return (request: WebhookRequest) => {
    connector.inbound.verify(request, keys.secrets, new Date());
    return connector.id === 'twilio' ? parseForm(request.body) : JSON.parse(request.body.toString('utf8'));
  };
}

/** The deliveries of `request` that have a topic, with it. */
function deliveriesOf(connector: ConnectorDefinition, request: WebhookRequest) {
  const found = connector.inbound.parse(request).flatMap((delivery) => {
    const topic = connector.inbound.topics[delivery.topic];
    return topic ? [{ delivery, topic }] : [];
  });
  if (found.length === 0) throw new Error(`${connector.id}: no delivery with a schema`);
  return found;
}

/** The connector's zod schemas on the deliveries of `request`, split once beforehand. */
export function validation(connector: ConnectorDefinition, request: WebhookRequest) {
  const checks = deliveriesOf(connector, request);
  return () => {
    for (const { delivery, topic } of checks)
      if (!topic.schema.safeParse(delivery.payload).success)
        throw new Error(`${connector.id}: payload rejected`);
  };
}

/** The connector's translators on the deliveries of `request`, validated once beforehand. */
export function translation(connector: ConnectorDefinition, request: WebhookRequest) {
  const inputs = deliveriesOf(connector, request).map(({ delivery, topic }) => ({
    translate: topic.translate,
    payload: topic.schema.parse(delivery.payload),
    context: { connector: connector.id, deliveryId: delivery.deliveryId, topic: delivery.topic, request },
  }));
  return () => {
    let drafts = 0;
    for (const { translate, payload, context } of inputs) drafts += translate(payload, context).length;
    if (drafts === 0) throw new Error(`${connector.id}: nothing translated`);
  };
}

/** The PutEvents requests ours sent (their bodies), sent again: serialised and signed, canned answer. */
export function bus(sent: readonly string[]) {
  const client = new AwsJsonClient(EVENTBRIDGE, { env: AWS_ENV, transport: cannedTransport() });
  const inputs = sent.map((body) => JSON.parse(body) as unknown);
  if (inputs.length === 0) throw new Error('bus: ours sent no PutEvents request');
  return async () => {
    for (const input of inputs) await client.call('PutEvents', input);
  };
}

/** One plain event per vendor event, as a hand-written handler would map it. */
function entry(source: string, type: string, detail: Record<string, unknown>): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: source,
    DetailType: type,
    Detail: JSON.stringify(detail),
    Time: new Date(),
  };
}

type Json = Record<string, unknown>;

/** The hand-written peers: vendor SDK verifier + JSON.parse + plain mapping + SDK PutEvents. */
export function peer(id: VendorId, keys: WebhookKeys) {
  const client = cannedSdkClient();
  const send = async (entries: PutEventsRequestEntry[]) => {
    for (let i = 0; i < entries.length; i += 10) {
      const result = await client.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
      if (result.FailedEntryCount) throw new Error('peer: PutEvents failed');
    }
  };
  const secret = (name: string) => keys.secrets[name] as string;
  switch (id) {
    case 'shopify': {
      const shopify = shopifyApi({
        apiKey: 'bench',
        apiSecretKey: secret('SHOPIFY_WEBHOOK_SECRET'),
        apiVersion: ApiVersion.April25,
        hostName: 'hooks.example.com',
        isEmbeddedApp: false,
        logger: { level: LogSeverity.Error, log: async () => {} },
      });
      return async (request: WebhookRequest) => {
        const rawBody = request.body.toString('utf8');
        const check = await shopify.webhooks.validate({
          rawBody,
          rawRequest: { method: 'POST', url: request.path, headers: request.headers },
        });
        if (!check.valid) throw new Error('peer: shopify signature rejected');
        const order = JSON.parse(rawBody) as Json & { customer?: Json; line_items?: Json[] };
        await send([
          entry('shopify', 'order.placed', {
            orderId: String(order.id),
            email: order.email,
            total: order.total_price,
            currency: order.currency,
            lineItems: order.line_items?.map((item) => ({
              sku: item.sku,
              quantity: item.quantity,
              price: item.price,
            })),
            customerId: order.customer?.id,
          }),
        ]);
      };
    }
    case 'hubspot':
      return async (request: WebhookRequest) => {
        const requestBody = request.body.toString('utf8');
        const valid = HubSpotSignature.isValid({
          signatureVersion: 'v3',
          signature: request.headers['x-hubspot-signature-v3'] ?? '',
          clientSecret: secret('HUBSPOT_CLIENT_SECRET'),
          requestBody,
          url: request.publicUrl,
          method: 'POST',
          timestamp: Number(request.headers['x-hubspot-request-timestamp']),
        });
        if (!valid) throw new Error('peer: hubspot signature rejected');
        const events = JSON.parse(requestBody) as Json[];
        await send(
          events.map((event) =>
            entry('hubspot', String(event.subscriptionType), {
              id: event.eventId,
              contactId: event.objectId,
              property: event.propertyName,
              value: event.propertyValue,
            }),
          ),
        );
      };
    case 'square':
      return async (request: WebhookRequest) => {
        const requestBody = request.body.toString('utf8');
        const valid = await WebhooksHelper.verifySignature({
          requestBody,
          signatureHeader: request.headers['x-square-hmacsha256-signature'] ?? '',
          signatureKey: secret('SQUARE_SIGNATURE_KEY'),
          notificationUrl: request.publicUrl,
        });
        if (!valid) throw new Error('peer: square signature rejected');
        const event = JSON.parse(requestBody) as Json & { data?: { object?: Json } };
        await send([entry('square', String(event.type), { id: event.event_id, object: event.data?.object })]);
      };
    case 'sendgrid': {
      const webhook = new EventWebhook();
      return async (request: WebhookRequest) => {
        const body = request.body.toString('utf8');
        const valid = webhook.verifySignature(
          webhook.convertPublicKeyToECDSA(secret('SENDGRID_WEBHOOK_PUBLIC_KEY')),
          body,
          request.headers['x-twilio-email-event-webhook-signature'] ?? '',
          request.headers['x-twilio-email-event-webhook-timestamp'] ?? '',
        );
        if (!valid) throw new Error('peer: sendgrid signature rejected');
        const events = JSON.parse(body) as Json[];
        await send(
          events.map((event) =>
            entry('sendgrid', String(event.event), {
              id: event.sg_event_id,
              email: event.email,
              at: event.timestamp,
            }),
          ),
        );
      };
    }
    case 'twilio':
      return async (request: WebhookRequest) => {
        const params = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
        const valid = twilio.validateRequest(
          secret('TWILIO_AUTH_TOKEN'),
          request.headers['x-twilio-signature'] ?? '',
          request.publicUrl,
          params,
        );
        if (!valid) throw new Error('peer: twilio signature rejected');
        await send([
          entry('twilio', params.MessageStatus ?? 'message.received', {
            sid: params.MessageSid,
            from: params.From,
            to: params.To,
            body: params.Body,
          }),
        ]);
      };
  }
}

export async function runInbound(options: { quick: boolean }): Promise<InboundRow[]> {
  const keys = generateWebhookKeys('https://hooks.example.com');
  const rows: InboundRow[] = [];
  const unmute = muteStdout();
  try {
    for (const id of CONNECTORS) {
      const connector = connectors[id] as ConnectorDefinition;
      for (const size of ['small', 'large'] as const) {
        const request = pipelineRequest(signed(id, size, 1, keys), keys);
        // One run first, to record the PutEvents requests ours sends (for `bus`) and its answer.
        const sent: string[] = [];
        const answer = await ours(connector, keys, sent)(request);
        const variants = {
          ours: ours(connector, keys),
          floor: floor(connector, keys),
          peer: peer(id, keys),
          validation: validation(connector, request),
          translation: translation(connector, request),
          bus: bus(sent),
        };
        const heavy = request.body.length > 50_000;
        const samples = await sideBySide(
          Object.entries(variants).map(([name, run]) => ({ name, run: () => run(request) })),
          {
            rounds: options.quick ? 5 : 30,
            batch: heavy ? (options.quick ? 2 : 5) : options.quick ? 20 : 100,
          },
        );
        rows.push({
          connector: id,
          size,
          payload: PAYLOADS[id][size],
          bytes: request.body.length,
          events: Number(/"published":(\d+)/.exec(answer.body ?? '')?.[1] ?? 1),
          ours: median(samples.get('ours') ?? []),
          floor: median(samples.get('floor') ?? []),
          peer: median(samples.get('peer') ?? []),
          validation: median(samples.get('validation') ?? []),
          translation: median(samples.get('translation') ?? []),
          bus: median(samples.get('bus') ?? []),
        });
      }
    }
  } finally {
    unmute();
  }
  return rows;
}
