/**
 * Batches with bad elements (HubSpot, SendGrid), through the real pipeline, signed as each vendor
 * signs: for any batch with k invalid elements, exactly the others are published, k are
 * quarantined, and the answer is 2xx, so the vendor stops retrying and nothing verified is lost.
 */
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import hubspot from '../../connectors/hubspot/index.ts';
import * as hubspotSigner from '../../connectors/hubspot/signer.ts';
import sendgrid from '../../connectors/sendgrid/index.ts';
import * as sendgridSigner from '../../connectors/sendgrid/signer.ts';
import type { ConnectorDefinition, WebhookRequest } from '../../core/connector.ts';
import { pipelineHarness } from '../support/ingest.ts';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const URL_BASE = 'https://hooks.example.com';

interface BatchCase {
  readonly connector: ConnectorDefinition;
  readonly secrets: Record<string, string>;
  /** A valid element with ids made from `n`, and the delivery id the connector gives it. */
  readonly valid: (n: number) => { element: Record<string, unknown>; deliveryId: string };
  /** Ways to spoil a valid element so that it can never be translated. */
  readonly spoilers: ReadonlyArray<(element: Record<string, unknown>) => unknown>;
  readonly sign: (body: string) => WebhookRequest;
}

function request(connectorId: string, body: string, headers: Record<string, string>): WebhookRequest {
  return {
    method: 'POST',
    path: `/webhooks/${connectorId}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(body),
    publicUrl: `${URL_BASE}/webhooks/${connectorId}`,
    receivedAt: NOW,
  };
}

function without(element: Record<string, unknown>, name: string): Record<string, unknown> {
  const { [name]: _dropped, ...rest } = element;
  return rest;
}

const hubspotKeys = hubspotSigner.generateTestKeys();
const sendgridKeys = sendgridSigner.generateTestKeys();

const cases: BatchCase[] = [
  {
    connector: hubspot,
    secrets: hubspotKeys.secrets,
    valid: (n) => ({
      element: {
        eventId: n,
        subscriptionId: 7000 + (n % 3),
        portalId: 62515,
        occurredAt: 1748779200000 + n,
        subscriptionType: n % 2 === 0 ? 'contact.creation' : 'contact.deletion',
        attemptNumber: 0,
        objectId: 100 + n,
      },
      deliveryId: `${7000 + (n % 3)}:${n}`,
    }),
    spoilers: [
      (element) => ({ ...element, occurredAt: 'yesterday' }),
      (element) => without(element, 'objectId'),
      (element) => without(element, 'subscriptionType'),
      (element) => ({ ...element, eventId: 1.5 }),
      () => 42,
      () => null,
    ],
    sign: (body) =>
      request(
        'hubspot',
        body,
        hubspotSigner.signRequest({ url: `${URL_BASE}/webhooks/hubspot`, body }, hubspotKeys, NOW),
      ),
  },
  {
    connector: sendgrid,
    secrets: sendgridKeys.secrets,
    valid: (n) => ({
      element: {
        email: `person${n}@example.com`,
        timestamp: 1748779200 + n,
        event: ['delivered', 'open', 'unsubscribe'][n % 3],
        sg_event_id: `ZXZlbnQt${n}`,
        sg_message_id: `message-${n}.filter0001`,
      },
      deliveryId: `ZXZlbnQt${n}`,
    }),
    spoilers: [
      (element) => ({ ...element, timestamp: 'yesterday' }),
      (element) => ({ ...element, timestamp: -1 }),
      (element) => without(element, 'sg_event_id'),
      (element) => ({ ...element, email: 7 }),
      () => 'not an event',
      () => [],
    ],
    sign: (body) => request('sendgrid', body, sendgridSigner.signRequest({ body }, sendgridKeys, NOW)),
  },
];

describe.each(cases)(
  'Quarantine in batches: $connector.id',
  ({ connector, secrets, valid, spoilers, sign }) => {
    it('publishes exactly the valid elements, quarantines the k others, and answers 2xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          // Per element: valid, or spoiled by one of the spoilers.
          fc.array(fc.option(fc.nat({ max: spoilers.length - 1 }), { nil: undefined }), {
            minLength: 1,
            maxLength: 12,
          }),
          async (plan) => {
            const elements = plan.map((spoiler, index) => {
              const { element, deliveryId } = valid(index + 1);
              return spoiler === undefined
                ? { element, deliveryId, valid: true }
                : { element: spoilers[spoiler]?.(element), deliveryId, valid: false };
            });
            const harness = pipelineHarness(connector, { secrets, now: () => NOW });
            const response = await harness.send(sign(JSON.stringify(elements.map((entry) => entry.element))));
            const invalid = elements.filter((entry) => !entry.valid).length;

            expect(response.statusCode, response.body).toBe(200);
            expect(harness.publisher.events.map((event) => event.origin.deliveryId)).toEqual(
              elements.filter((entry) => entry.valid).map((entry) => entry.deliveryId),
            );
            const quarantined = [...harness.quarantine.records.values()];
            expect(quarantined).toHaveLength(invalid);
            expect(quarantined.map((record) => record.index)).toEqual(
              elements.flatMap((entry, index) => (entry.valid ? [] : [index])),
            );
            for (const record of quarantined) {
              expect(record.reason).toMatch(/\w+: /);
              // Reasons name fields, never values: no address of the batch appears in one.
              expect(record.reason).not.toMatch(/@example\.com/);
            }
          },
        ),
        { numRuns: 60 },
      );
    });
  },
);
