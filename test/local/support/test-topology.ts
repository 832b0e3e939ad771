/**
 * A small topology for the local hub's tests: one connector route whose handler publishes a canonical
 * looking event, a throwing route, an echo route, and two recording consumers (one whose rule matches
 * `order.placed`, one that never matches it).
 */
import { defineConnector } from '../../../core/connector.ts';
import { idempotencyTable, profileTable } from '../../../core/tables.ts';
import { type IngestRoute, ingestRoute, type Topology } from '../../../lib/topology.ts';

/** The env var the recorder consumer appends to (`<dir>/<function name>.jsonl`). */
export const RECORDER_DIR_ENV = 'OMNIHUB_TEST_RECORDER_DIR';

function testConnector(id: string, secrets: Record<string, string> = {}) {
  return defineConnector({
    id,
    name: `Test ${id}`,
    category: 'ecommerce',
    secrets,
    inbound: {
      contentTypes: ['application/json'],
      verify: () => undefined,
      parse: () => [],
      topics: {},
    },
  });
}

function route(connectorId: string, entry: string, secrets: Record<string, string> = {}): IngestRoute {
  return { ...ingestRoute(testConnector(connectorId, secrets)), entry, timeoutSeconds: 5 };
}

export interface TestTopologyOptions {
  /** Visibility timeout of the consumers' queues. @default 1 */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 2 */
  readonly maxReceiveCount?: number;
}

export function testTopology(options: TestTopologyOptions = {}): Topology {
  const queue = {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    maxReceiveCount: options.maxReceiveCount ?? 2,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
  };
  return {
    bus: { name: 'omnihub-test', archiveRetentionDays: 30 },
    tables: [idempotencyTable, profileTable],
    ingest: [
      route('testshop', 'test/local/fixtures/publish-handler.ts', {
        TESTSHOP_WEBHOOK_SECRET: 'Shared secret',
      }),
      route('broken', 'test/local/fixtures/throwing-handler.ts'),
      route('echo', 'test/local/fixtures/echo-handler.ts'),
    ],
    consumers: [
      {
        id: 'order-recorder',
        description: 'Records every order.placed event it receives.',
        entry: 'test/local/fixtures/record-consumer.ts',
        pattern: { source: [{ prefix: 'omnihub.' }], 'detail-type': ['order.placed'] },
        timeoutSeconds: 5,
        queue,
      },
      {
        id: 'refund-recorder',
        description: 'Records order.refunded events; order.placed must never reach it.',
        entry: 'test/local/fixtures/record-consumer.ts',
        pattern: { source: [{ prefix: 'omnihub.' }], 'detail-type': ['order.refunded'] },
        timeoutSeconds: 5,
        queue,
      },
    ],
    api: [
      {
        id: 'things-api',
        description: 'Echoes API requests, to check path parameters and method routing.',
        entry: 'test/local/fixtures/echo-handler.ts',
        timeoutSeconds: 5,
        routes: [
          { method: 'GET', path: '/things/{thingId}' },
          { method: 'DELETE', path: '/things/{thingId}' },
          { method: 'GET', path: '/things/{thingId}/parts' },
        ],
      },
    ],
  };
}
