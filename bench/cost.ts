/**
 * Cost per million webhooks on AWS : the AWS requests each path makes, counted
 * from the other benchmarks' measurements, times list prices.
 *
 * Paths: ingest (HTTP API -> ingest Lambda -> ledger on DynamoDB -> PutEvents) and profile update
 * (rule -> SQS -> profile writer Lambda -> DynamoDB -> PutEvents `profile.updated`). The typical
 * webhook is one vendor delivery yielding one canonical event about a known person (a small
 * payload of the inbound benchmark, the "known identity" row of the units benchmark).
 */

import type { UnitsRow } from './dynamo-units.ts';
import type { InboundRow } from './inbound.ts';

/** us-east-1 list prices (aws.amazon.com/<service>/pricing), as of 2025-11; free tiers ignored. */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025-11 (list prices; DynamoDB on-demand after the Nov 2024 cut)',
  httpApiPerMillion: 1.0,
  lambdaRequestsPerMillion: 0.2,
  /** arm64, first 6 B GB-s tier. */
  lambdaGbSecond: 0.0000133334,
  eventBridgeCustomEventsPerMillion: 1.0,
  /** Archive: per GB of events archived (storage $0.023/GB-month not included). */
  eventBridgeArchivePerGb: 0.1,
  sqsRequestsPerMillion: 0.4,
  dynamoWriteRequestUnitPerMillion: 0.625,
  dynamoReadRequestUnitPerMillion: 0.125,
  cloudWatchLogsIngestPerGb: 0.5,
} as const;

/**
 * What is not measured here and is assumed: in-region service latencies while a Lambda waits
 * (billed duration), the CPU share of a 256 MB function, log volume per invocation.
 */
export const ASSUMPTIONS = {
  memoryMiB: 256,
  /** Lambda gives one vCPU at 1,769 MB, proportionally less below: CPU-bound time stretches. */
  cpuStretch: 1769 / 256,
  dynamoDbCallMs: 5,
  putEventsCallMs: 20,
  sqsBatchSize: 10,
  /** START/END/REPORT + one INFO line + one EMF metrics document per ingest invocation. */
  ingestLogBytes: 1_200,
  /** Same per profile-writer batch of 10. */
  consumerLogBytesPerBatch: 1_500,
  /** Canonical event size in the archive. */
  eventBytes: 1_500,
};

export interface CostRow {
  readonly path: 'ingest' | 'profile update' | 'both';
  readonly item: string;
  readonly quantity: string;
  readonly dollars: number;
  /**
   * Set on what the design itself requires whatever the code does: the HTTP API request, the
   * Powertools idempotency record (reserve, then complete), the canonical event on the bus, the
   * rule's SQS send and the profile's own units. Their sum is the floor no optimisation of ours
   * goes below.
   */
  readonly fixed?: true;
}

export interface CostInputs {
  readonly inbound: readonly InboundRow[];
  readonly units: readonly UnitsRow[];
}

export function costPerMillion(inputs: CostInputs): {
  rows: CostRow[];
  total: number;
  /** The sum of the rows marked {@link CostRow.fixed}. */
  fixed: number;
  ingestMs: number;
  writerMs: number;
} {
  const small = inputs.inbound.filter((row) => row.size === 'small');
  const computeMs = small.length > 0 ? small.reduce((sum, row) => sum + row.ours, 0) / small.length : 1;
  const known = inputs.units.find((row) =>
    row.scenario.startsWith('profile writer: known identity (customer'),
  );
  const ledger = inputs.units.find((row) => row.scenario.startsWith('idempotency: new delivery'));
  const ledgerWcu = ledger?.wcu ?? 2;
  const ledgerRcu = ledger?.rcu ?? 0;
  // Without a units run (`--only=` without `units`): the known-identity path as measured (1 RCU, 2 WCU).
  const writerRcu = known?.rcu ?? 1;
  const writerWcu = known?.wcu ?? 2;
  const writerCalls = Object.values(known?.calls ?? { BatchGetItem: 1, GetItem: 1, PutItem: 2 }).reduce(
    (a, b) => a + b,
    0,
  );
  const announcements = known?.announced ?? 1;

  // Billed duration: CPU work stretched to the 256 MB share, plus waiting on AWS.
  const ingestMs = Math.ceil(
    computeMs * ASSUMPTIONS.cpuStretch + 2 * ASSUMPTIONS.dynamoDbCallMs + ASSUMPTIONS.putEventsCallMs,
  );
  const writerMs = Math.ceil(
    writerCalls * ASSUMPTIONS.dynamoDbCallMs +
      announcements * ASSUMPTIONS.putEventsCallMs +
      1 * ASSUMPTIONS.cpuStretch,
  );
  const gb = ASSUMPTIONS.memoryMiB / 1024;
  const M = 1_000_000;
  const rows: CostRow[] = [
    {
      path: 'ingest',
      item: 'API Gateway HTTP API requests',
      quantity: '1 M',
      dollars: PRICES.httpApiPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'Lambda requests (ingest)',
      quantity: '1 M',
      dollars: PRICES.lambdaRequestsPerMillion,
    },
    {
      path: 'ingest',
      item: `Lambda duration (ingest, ${ingestMs} ms × ${ASSUMPTIONS.memoryMiB} MB)`,
      quantity: `${((M * ingestMs) / 1000) * gb} GB-s`,
      dollars: ((M * ingestMs) / 1000) * gb * PRICES.lambdaGbSecond,
    },
    {
      path: 'ingest',
      item: `DynamoDB ledger (${ledgerWcu} WRU + ${ledgerRcu} RRU per delivery)`,
      quantity: `${ledgerWcu} M WRU`,
      dollars:
        ledgerWcu * PRICES.dynamoWriteRequestUnitPerMillion +
        ledgerRcu * PRICES.dynamoReadRequestUnitPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'EventBridge PutEvents (1 event ≤ 64 KB)',
      quantity: '1 M events',
      dollars: PRICES.eventBridgeCustomEventsPerMillion,
      fixed: true,
    },
    {
      path: 'ingest',
      item: 'EventBridge archive',
      quantity: `${((M * ASSUMPTIONS.eventBytes) / 1e9).toFixed(1)} GB`,
      dollars: ((M * ASSUMPTIONS.eventBytes) / 1e9) * PRICES.eventBridgeArchivePerGb,
    },
    {
      path: 'profile update',
      item: 'SQS requests (send by the rule, receive + delete per batch of 10)',
      quantity: `${1 + 2 / ASSUMPTIONS.sqsBatchSize} M`,
      dollars: (1 + 2 / ASSUMPTIONS.sqsBatchSize) * PRICES.sqsRequestsPerMillion,
      fixed: true,
    },
    {
      path: 'profile update',
      item: 'Lambda requests (profile writer, batches of 10)',
      quantity: `${1 / ASSUMPTIONS.sqsBatchSize} M`,
      dollars: PRICES.lambdaRequestsPerMillion / ASSUMPTIONS.sqsBatchSize,
    },
    {
      path: 'profile update',
      item: `Lambda duration (profile writer, ${writerMs} ms per event × ${ASSUMPTIONS.memoryMiB} MB)`,
      quantity: `${((M * writerMs) / 1000) * gb} GB-s`,
      dollars: ((M * writerMs) / 1000) * gb * PRICES.lambdaGbSecond,
    },
    {
      path: 'profile update',
      item: `DynamoDB profile (${writerRcu} RRU + ${writerWcu} WRU per known-identity event)`,
      quantity: `${writerRcu} M RRU + ${writerWcu} M WRU`,
      dollars:
        writerRcu * PRICES.dynamoReadRequestUnitPerMillion +
        writerWcu * PRICES.dynamoWriteRequestUnitPerMillion,
      fixed: true,
    },
    {
      path: 'profile update',
      item: `EventBridge PutEvents (${announcements} profile.updated per event)`,
      quantity: `${announcements} M events`,
      dollars: announcements * PRICES.eventBridgeCustomEventsPerMillion,
    },
    {
      path: 'both',
      item: 'CloudWatch Logs ingestion',
      quantity: `${((M * ASSUMPTIONS.ingestLogBytes + (M / ASSUMPTIONS.sqsBatchSize) * ASSUMPTIONS.consumerLogBytesPerBatch) / 1e9).toFixed(2)} GB`,
      dollars:
        ((M * ASSUMPTIONS.ingestLogBytes +
          (M / ASSUMPTIONS.sqsBatchSize) * ASSUMPTIONS.consumerLogBytesPerBatch) /
          1e9) *
        PRICES.cloudWatchLogsIngestPerGb,
    },
  ];
  return {
    rows,
    total: rows.reduce((sum, row) => sum + row.dollars, 0),
    fixed: rows.reduce((sum, row) => sum + (row.fixed ? row.dollars : 0), 0),
    ingestMs,
    writerMs,
  };
}
