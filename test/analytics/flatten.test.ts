/**
 * Flattening of canonical events and profile-table items to analytics rows (analytics/flatten.ts),
 * the output formats of `omnihub sql`, and the archive file reader.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleQueries } from '../../analytics/examples.ts';
import {
  flattenEvent,
  flattenProfileItems,
  identityKind,
  type TableItem,
  toTimestamp,
  UnreadableEventError,
} from '../../analytics/flatten.ts';
import { readArchiveFile } from '../../analytics/local-source.ts';
import { formatCsv, formatJson } from '../../analytics/output.ts';
import { eventsTable, tables } from '../../analytics/schema.ts';
import { views } from '../../analytics/views.ts';

function busEvent(type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id: 'eb-1',
    'detail-type': type,
    source: 'omnihub.shopify',
    detail: {
      id: 'evt-1',
      type,
      source: 'omnihub.shopify',
      subject: 'shopify:7001',
      time: '2025-03-05T09:15:00-05:00',
      occurredAt: '2025-03-05T09:15:00-05:00',
      receivedAt: '2025-03-05T14:15:01.250Z',
      schemaVersion: 1,
      dataschema: `https://omnihub.dev/schemas/${type}.v1.json`,
      origin: { connector: 'shopify', deliveryId: 'orders/create:abc', topic: 'orders/create' },
      identities: [
        { type: 'email', value: 'ada@example.com' },
        { type: 'external', system: 'shopify', value: '7001' },
      ],
      correlationId: 'corr-1',
      data,
      ...extra,
    },
  };
}

describe('Analytics: flattenEvent', () => {
  it('turns an order into columns, times in UTC', () => {
    const row = flattenEvent(
      busEvent('order.placed', {
        orderId: '8001',
        orderNumber: '#1001',
        channel: 'online',
        total: { amount: 19900, currency: 'USD' },
        financialStatus: 'paid',
        lineItems: [{ quantity: 1 }, { quantity: 2 }],
      }),
      '2025-03-05T23:59:59.999Z',
    );
    expect(row).toMatchObject({
      event_id: 'evt-1',
      type: 'order.placed',
      connector: 'shopify',
      topic: 'orders/create',
      occurred_at: '2025-03-05 14:15:00.000',
      received_at: '2025-03-05 14:15:01.250',
      identity_count: 2,
      order_id: '8001',
      order_number: '#1001',
      channel: 'online',
      amount: 19900,
      currency: 'USD',
      line_item_count: 2,
      cart_id: null,
      dt: '2025-03-05',
    });
  });

  it('has exactly the columns of the events table', () => {
    const row = flattenEvent(
      busEvent('cart.updated', {
        cartId: '9',
        total: { amount: 1, currency: 'EUR' },
        lineItems: [],
        completed: true,
      }),
      0,
    );
    expect(Object.keys(row)).toEqual(eventsTable.columns.map((column) => column.name));
    expect(row).toMatchObject({
      cart_id: '9',
      cart_completed: true,
      amount: 1,
      currency: 'EUR',
      dt: '1970-01-01',
      order_id: null,
    });
  });

  it.each([
    [
      'consent.changed',
      { channel: 'email', status: 'unsubscribed', scope: 'group:42', reason: 'spamreport' },
      { channel: 'email', status: 'unsubscribed', scope: 'group:42', reason: 'spamreport' },
    ],
    [
      'profile.merged',
      { survivor: 'p_a', merged: 'p_b', reason: { eventId: 'e', identity: 'email:x@y.z' } },
      { profile_id: 'p_a', merged_profile_id: 'p_b', reason: null },
    ],
    [
      'order.refunded',
      { orderId: '1', refundId: 'r1', amount: { amount: 500, currency: 'USD' }, reason: 'damaged' },
      { order_id: '1', refund_id: 'r1', amount: 500, reason: 'damaged' },
    ],
    ['loyalty.updated', { accountId: 'L1', balance: 120 }, { loyalty_balance: 120, order_id: null }],
  ])('%s', (type, data, expected) => {
    expect(flattenEvent(busEvent(type, data), '2025-01-01T00:00:00Z')).toMatchObject(expected);
  });

  it('refuses what is not a canonical envelope, saying which event', () => {
    expect(() => flattenEvent({ id: 'eb-9', 'detail-type': 'x', detail: { hello: 1 } }, 0)).toThrow(
      UnreadableEventError,
    );
    expect(() => flattenEvent({ id: 'eb-9', 'detail-type': 'x', detail: { hello: 1 } }, 0)).toThrow(
      /event eb-9 \(x\)/,
    );
  });

  it.each([
    ['2025-04-22T14:30:00-05:00', '2025-04-22 19:30:00.000'],
    ['2025-04-22T19:30:00.123456Z', '2025-04-22 19:30:00.123'],
    [0, '1970-01-01 00:00:00.000'],
    ['not a date', null],
    [undefined, null],
  ])('toTimestamp(%j) = %j', (input, expected) => {
    expect(toTimestamp(input)).toBe(expected);
  });
});

const stamp = (value: unknown, at: string, source: string, eventId = 'e') => ({ value, at, source, eventId });

function profileItem(id: string, overrides: Record<string, unknown> = {}): TableItem {
  return {
    pk: `P#${id}`,
    sk: 'P',
    profileId: id,
    status: 'live',
    version: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-02T00:00:00.000Z',
    identities: ['email:ada@example.com', 'ext:shopify:7001', 'ext:hubspot:a:b', 'phone:+14155550101'],
    traits: {
      firstName: stamp('Ada', '2025-03-05T09:00:00.000Z', 'shopify'),
      'address.country': stamp('US', '2025-03-01T10:00:00.000Z', 'square'),
    },
    consent: {
      email: stamp({ status: 'subscribed' }, '2025-03-05T09:00:00.000Z', 'shopify'),
      'email/group:42': stamp(
        { status: 'unsubscribed', reason: 'group_unsubscribe' },
        '2025-03-06T00:00:00.000Z',
        'sendgrid',
      ),
    },
    orders: {
      'shopify:8001': {
        total: { amount: 19900, currency: 'USD' },
        placedAt: '2025-03-05T09:15:00.000Z',
        source: 'shopify',
        refunds: { r1: { amount: 900, currency: 'USD' } },
      },
      'square:O1': {
        total: { amount: 2300, currency: 'USD' },
        placedAt: '2025-03-01T10:05:00.000Z',
        source: 'square',
        cancelled: true,
      },
      'shopify:8009': { refunds: { r2: { amount: 100, currency: 'EUR' } } },
    },
    channels: ['square', 'shopify'],
    mergedFrom: ['p_old'],
    mergeHistory: [
      { merged: 'p_old', eventId: 'evt-7', identity: 'ext:square:C1', at: '2025-03-05T09:15:00.000Z' },
    ],
    stats: {
      orderCount: 1,
      lifetimeValue: { USD: 19000 },
      firstOrderAt: '2025-03-05T09:15:00.000Z',
      lastOrderAt: '2025-03-05T09:15:00.000Z',
      channels: ['shopify', 'square'],
    },
    loyalty: stamp({ accountId: 'L', balance: 40 }, '2025-03-02T00:00:00.000Z', 'square'),
    ...overrides,
  };
}

const timeline = (partition: string, at: string, connector: string, eventId: string): TableItem => ({
  pk: `P#${partition}`,
  sk: `T#${at}#${eventId}`,
  eventId,
  type: 'customer.upserted',
  occurredAt: at,
  connector,
  summary: {},
});

describe('Analytics: flattenProfileItems', () => {
  const items: TableItem[] = [
    profileItem('p_live'),
    { ...profileItem('p_old'), status: 'merged', mergedInto: 'p_live' },
    { pk: 'ID#email:ada@example.com', sk: 'ID', profileId: 'p_live' },
    timeline('p_live', '2025-03-05T09:00:00.000Z', 'shopify', 'e2'),
    // The merged profile's timeline holds the person's first touch.
    timeline('p_old', '2025-02-28T23:00:00.000Z', 'twilio', 'e1'),
  ];

  it('makes one person of a live profile; merged profiles and pointers are no rows', () => {
    const rows = flattenProfileItems(items);
    expect(rows.profiles).toEqual([
      {
        profile_id: 'p_live',
        created_at: '2026-01-01 00:00:00.000',
        updated_at: '2026-01-02 00:00:00.000',
        first_seen_at: '2025-02-28 23:00:00.000',
        first_channel: 'twilio',
        channels: 'shopify,square',
        channel_count: 2,
        identity_count: 4,
        order_count: 1,
        first_order_at: '2025-03-05 09:15:00.000',
        last_order_at: '2025-03-05 09:15:00.000',
        email_consent: 'subscribed',
        sms_consent: 'unknown',
        loyalty_balance: 40,
        country: 'US',
        merged_count: 1,
      },
    ]);
  });

  it('falls back to the earliest stamped value when the timeline expired', () => {
    const rows = flattenProfileItems([profileItem('p_live')]);
    expect(rows.profiles[0]).toMatchObject({
      first_seen_at: '2025-03-01 10:00:00.000',
      first_channel: 'square',
    });
  });

  it('splits identities, including system ids that contain colons', () => {
    expect(flattenProfileItems(items).identities).toEqual([
      {
        profile_id: 'p_live',
        identity_key: 'email:ada@example.com',
        identity_type: 'email',
        system: null,
        value: 'ada@example.com',
      },
      {
        profile_id: 'p_live',
        identity_key: 'ext:shopify:7001',
        identity_type: 'external',
        system: 'shopify',
        value: '7001',
      },
      {
        profile_id: 'p_live',
        identity_key: 'ext:hubspot:a:b',
        identity_type: 'external',
        system: 'hubspot',
        value: 'a:b',
      },
      {
        profile_id: 'p_live',
        identity_key: 'phone:+14155550101',
        identity_type: 'phone',
        system: null,
        value: '+14155550101',
      },
    ]);
  });

  it('always has an email and an sms row, plus scoped consent', () => {
    expect(flattenProfileItems(items).consent).toEqual([
      {
        profile_id: 'p_live',
        channel: 'email',
        scope: null,
        status: 'subscribed',
        reason: null,
        source: 'shopify',
        updated_at: '2025-03-05 09:00:00.000',
      },
      {
        profile_id: 'p_live',
        channel: 'email',
        scope: 'group:42',
        status: 'unsubscribed',
        reason: 'group_unsubscribe',
        source: 'sendgrid',
        updated_at: '2025-03-06 00:00:00.000',
      },
      {
        profile_id: 'p_live',
        channel: 'sms',
        scope: null,
        status: 'unknown',
        reason: null,
        source: null,
        updated_at: null,
      },
    ]);
  });

  it('keeps merges with their reason, and orders with refunds and cancellations', () => {
    const rows = flattenProfileItems(items);
    expect(rows.merges).toEqual([
      {
        profile_id: 'p_live',
        merged_profile_id: 'p_old',
        reason: 'ext:square',
        identity_key: 'ext:square:C1',
        event_id: 'evt-7',
        merged_at: '2025-03-05 09:15:00.000',
      },
    ]);
    expect(rows.profile_orders).toEqual([
      {
        profile_id: 'p_live',
        order_key: 'shopify:8001',
        connector: 'shopify',
        order_id: '8001',
        placed_at: '2025-03-05 09:15:00.000',
        amount: 19900,
        currency: 'USD',
        refunded_amount: 900,
        cancelled: false,
      },
      {
        profile_id: 'p_live',
        order_key: 'shopify:8009',
        connector: 'shopify',
        order_id: '8009',
        placed_at: null,
        amount: null,
        currency: 'EUR',
        refunded_amount: 100,
        cancelled: false,
      },
      {
        profile_id: 'p_live',
        order_key: 'square:O1',
        connector: 'square',
        order_id: 'O1',
        placed_at: '2025-03-01 10:05:00.000',
        amount: 2300,
        currency: 'USD',
        refunded_amount: 0,
        cancelled: true,
      },
    ]);
  });

  it('gives rows with exactly the columns of each table', () => {
    const rows = flattenProfileItems(items);
    for (const table of tables.filter((t) => t.origin === 'profiles')) {
      for (const row of rows[table.name as keyof typeof rows]) {
        expect(Object.keys(row)).toEqual(table.columns.map((column) => column.name));
      }
    }
  });

  it('does not depend on the order a Scan returns items in', () => {
    const expected = flattenProfileItems(items);
    fc.assert(
      fc.property(fc.shuffledSubarray(items, { minLength: items.length }), (shuffled) => {
        expect(flattenProfileItems(shuffled)).toEqual(expected);
      }),
    );
  });

  it.each([
    ['email:a@b.c', 'email'],
    ['phone:+1415', 'phone'],
    ['ext:shopify:1', 'ext:shopify'],
    ['order:square:O1', 'order:square'],
    ['payment:square:P1', 'payment:square'],
    ['', 'unknown'],
  ])('identityKind(%j) = %j', (key, kind) => {
    expect(identityKind(key)).toBe(kind);
  });
});

describe('Analytics: output of omnihub sql', () => {
  const result = {
    columns: ['name', 'n'],
    types: ['VARCHAR', 'BIGINT'],
    rows: [
      ['a, "quoted"', 5],
      [null, 120],
    ],
  };

  it('writes RFC 4180 CSV and JSON objects', () => {
    expect(formatCsv(result)).toBe('name,n\r\n"a, ""quoted""",5\r\n,120');
    expect(JSON.parse(formatJson(result))).toEqual([
      { name: 'a, "quoted"', n: 5 },
      { name: null, n: 120 },
    ]);
  });
});

describe('Analytics: the archive file', () => {
  it('reads complete lines and leaves a line still being written', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'archive-')), 'events.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ receivedAt: '2025-01-01T00:00:00.000Z', event: { id: '1' } })}\nnot json\n{"receivedAt":"2025-01-01T00:00:01.000Z","ev`,
    );
    expect(readArchiveFile(file)).toEqual([{ receivedAt: '2025-01-01T00:00:00.000Z', event: { id: '1' } }]);
  });
});

describe('Analytics: docs/analytics.md', () => {
  const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');

  it('documents every table, view and column', () => {
    for (const table of [...tables, ...views]) {
      expect(doc).toContain(`### \`${table.name}\``);
      for (const column of table.columns) expect(doc).toContain(`| \`${column.name}\` | ${column.type} |`);
    }
  });

  it('shows each example query exactly as the test runs it', () => {
    for (const query of exampleQueries) expect(doc).toContain(`\`\`\`sql\n${query.sql}\n\`\`\``);
  });
});
