import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog, eventTypes } from '../../core/events/catalog.ts';
import { deterministicEventId, Envelope } from '../../core/events/envelope.ts';
import { generatedFiles } from '../../scripts/schemas.ts';

describe('Canonical event catalog', () => {
  it('names every type as a past-tense fact in a namespace', () => {
    for (const type of eventTypes) expect(type).toMatch(/^[a-z]+\.[a-z]+$/);
  });

  it('has committed schemas and docs/events.md matching the catalog (run npm run schemas)', () => {
    for (const [path, content] of generatedFiles()) {
      expect(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), path).toBe(content);
    }
  });

  it('refuses money as a float', () => {
    const result = catalog['order.refunded'].data.safeParse({
      orderId: '1',
      refundId: '2',
      amount: { amount: 19.99, currency: 'USD' },
    });
    expect(result.error?.issues).toMatchObject([
      { path: ['amount', 'amount'], message: 'Invalid input: expected int, received number' },
    ]);
  });

  it('validates a complete envelope and rejects a foreign source', () => {
    const envelope = {
      id: deterministicEventId('shopify', 'evt-1', '0', 'order.placed'),
      type: 'order.placed',
      source: 'omnihub.shopify',
      time: '2025-04-22T19:30:00.000Z',
      occurredAt: '2025-04-22T19:30:00.000Z',
      receivedAt: '2025-04-22T19:30:01.000Z',
      schemaVersion: 1,
      dataschema: 'https://omnihub.dev/schemas/order.placed.v1.json',
      origin: { connector: 'shopify', deliveryId: 'evt-1', topic: 'orders/create' },
      identities: [{ type: 'email', value: 'bob@example.com' }],
      correlationId: 'c-1',
      data: {},
    };
    expect(Envelope.safeParse(envelope).success).toBe(true);
    expect(Envelope.safeParse({ ...envelope, source: 'shopify' }).error?.issues).toMatchObject([
      { path: ['source'], message: 'Invalid string: must start with "omnihub."' },
    ]);
  });

  it('derives the same event id from the same delivery, a different one otherwise', () => {
    const a = deterministicEventId('shopify', 'evt-1', '0', 'order.placed');
    expect(deterministicEventId('shopify', 'evt-1', '0', 'order.placed')).toBe(a);
    expect(deterministicEventId('shopify', 'evt-1', '1', 'order.placed')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
