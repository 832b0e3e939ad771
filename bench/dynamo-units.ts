/**
 * DynamoDB capacity units per canonical event, counted by DynamoDB itself:
 * every request is sent with `ReturnConsumedCapacity: 'TOTAL'` (dynalite reports it) and the
 * `ConsumedCapacity` of every answer is summed per operation. A conditional write whose condition
 * fails consumes write units on AWS but its error carries no `ConsumedCapacity`; it is counted as
 * 1 WCU (items here are under 1 KB).
 *
 * Scenarios: the profile writer (`core/profile/writer.ts`, unchanged) on a known identity, a new
 * identity and a merge, and the ingest delivery ledger (Powertools idempotency records) for a new
 * delivery and a redelivery.
 */
import { DynamoDocumentClient } from '../core/aws/dynamodb.ts';
import { type AwsHttpTransport, AwsJsonClient, DYNAMODB, httpTransport } from '../core/aws/json-client.ts';
import type { Envelope } from '../core/events/envelope.ts';
import { JsonProtocolPersistenceLayer } from '../core/ingest/idempotency-store.ts';
import { PowertoolsDeliveryLedger } from '../core/ingest/ledger.ts';
import { ProfileStore } from '../core/profile/store.ts';
import { ProfileWriter } from '../core/profile/writer.ts';
import { idempotencyTable, profileTable } from '../core/tables.ts';
import { canonical, email, external, phone } from '../test/profile/events.ts';
import { startDynalite } from '../test/support/dynamo.ts';
import { RecordingPublisher } from '../test/support/ingest.ts';

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

/** Capacity consumed, by read/write and by operation. */
export class CapacityMeter {
  rcu = 0;
  wcu = 0;
  readonly calls = new Map<string, number>();

  record(operation: string, consumed: unknown, failedCondition = false): void {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const entries = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
    let units = entries.reduce(
      (sum, entry) => sum + Number((entry as { CapacityUnits?: number }).CapacityUnits ?? 0),
      0,
    );
    if (failedCondition && units === 0) units = 1;
    if (READS.has(operation)) this.rcu += units;
    else this.wcu += units;
  }

  reset(): void {
    this.rcu = 0;
    this.wcu = 0;
    this.calls.clear();
  }

  snapshot() {
    return { rcu: this.rcu, wcu: this.wcu, calls: Object.fromEntries(this.calls) };
  }
}

/**
 * Adds `ReturnConsumedCapacity: 'TOTAL'` to every request of the SDK-less clients (profile store and
 * ledger alike), at their transport, and meters the answers.
 */
function meteredTransport(meter: CapacityMeter): AwsHttpTransport {
  return async (url, headers, body) => {
    const input = JSON.parse(body) as Record<string, unknown>;
    input.ReturnConsumedCapacity = 'TOTAL';
    const operation = String(headers['x-amz-target']).split('.').pop() ?? '?';
    const metered = JSON.stringify(input);
    // The signature covers the body: re-sign is not needed by dynalite, which does not check it.
    const response = await httpTransport(
      url,
      { ...headers, 'content-length': String(Buffer.byteLength(metered)) },
      metered,
    );
    const answer = response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
    meter.record(
      operation,
      answer.ConsumedCapacity,
      String(answer.__type ?? '').endsWith('ConditionalCheckFailedException'),
    );
    return response;
  };
}

export interface UnitsRow {
  readonly scenario: string;
  readonly rcu: number;
  readonly wcu: number;
  readonly calls: Readonly<Record<string, number>>;
  /** Events the writer published per event (`profile.updated`, `profile.merged`). */
  readonly announced?: number;
}

export async function runDynamoUnits(options: { quick: boolean }): Promise<UnitsRow[]> {
  const dynamo = await startDynalite();
  const rows: UnitsRow[] = [];
  try {
    const meter = new CapacityMeter();
    const profiles = await dynamo.createTable(profileTable);
    const store = new ProfileStore({
      tableName: profiles,
      client: new DynamoDocumentClient({
        env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint },
        credentials: async () => ({ accessKeyId: 'bench', secretAccessKey: 'bench' }),
        transport: meteredTransport(meter),
      }),
    });
    const bus = new RecordingPublisher();
    const writer = new ProfileWriter(store, bus);
    const n = options.quick ? 5 : 50;
    const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
    const person = (i: number) => [
      email(`person${i}@example.com`),
      external('shopify', String(7_000_000 + i)),
    ];

    async function measure(
      scenario: string,
      events: (i: number) => Envelope,
      prepare?: (i: number) => Promise<void>,
    ) {
      let rcu = 0;
      let wcu = 0;
      let announced = 0;
      const calls = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        await prepare?.(i);
        meter.reset();
        const before = bus.events.length;
        await writer.apply(events(i));
        announced += bus.events.length - before;
        rcu += meter.rcu;
        wcu += meter.wcu;
        for (const [operation, count] of meter.calls)
          calls.set(operation, (calls.get(operation) ?? 0) + count);
      }
      rows.push({
        scenario,
        rcu: rcu / n,
        wcu: wcu / n,
        calls: Object.fromEntries([...calls].map(([operation, count]) => [operation, count / n])),
        announced: announced / n,
      });
    }

    const upsert = (
      i: number,
      who = person(i),
      traits: Record<string, unknown> = { firstName: `P${i}` },
      offset = 0,
    ) =>
      canonical('customer.upserted', {
        connector: 'shopify',
        at: at(i * 10 + offset),
        identities: who,
        data: { system: 'shopify', externalId: String(7_000_000 + i), traits },
      });

    await measure('profile writer: new identity (customer.upserted, email + shopify id)', (i) => upsert(i));
    await measure('profile writer: known identity (customer.upserted, a trait changed)', (i) =>
      upsert(i, person(i), { firstName: `P${i}`, lastName: 'Known' }, 1),
    );
    await measure('profile writer: known identity (order.placed, new order pointer)', (i) =>
      canonical('order.placed', {
        connector: 'shopify',
        at: at(i * 10 + 2),
        identities: person(i),
        data: {
          orderId: `order-${i}`,
          channel: 'online',
          total: { amount: 4990, currency: 'USD' },
          lineItems: [],
        },
      }),
    );
    await measure(
      'profile writer: merge of two profiles (email of one, phone of the other)',
      (i) =>
        upsert(
          1000 + i,
          [email(`merge${i}@example.com`), phone(`+1415555${String(1000 + i).padStart(4, '0')}`)],
          {},
          5,
        ),
      async (i) => {
        await writer.apply(upsert(2000 + i, [email(`merge${i}@example.com`)], { firstName: 'A' }, 3));
        await writer.apply(
          upsert(3000 + i, [phone(`+1415555${String(1000 + i).padStart(4, '0')}`)], { lastName: 'B' }, 4),
        );
      },
    );

    // The delivery ledger of the ingest path (SDK-less client), per delivery.
    const idempotency = await dynamo.createTable(idempotencyTable);
    const ledger = new PowertoolsDeliveryLedger({
      tableName: idempotency,
      keyPrefix: 'ingest.bench',
      store: new JsonProtocolPersistenceLayer({
        tableName: idempotency,
        client: new AwsJsonClient(DYNAMODB, {
          env: {
            AWS_REGION: 'us-east-1',
            AWS_ACCESS_KEY_ID: 'bench',
            AWS_SECRET_ACCESS_KEY: 'bench',
            AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          },
          transport: meteredTransport(meter),
        }),
      }),
    });
    const perDelivery = async (scenario: string, keyOf: (i: number) => string) => {
      meter.reset();
      for (let i = 0; i < n; i++) {
        const key = keyOf(i);
        const outcome = await ledger.reserve([key], 10_000);
        if (outcome.get(key) === 'reserved') await ledger.complete([key]);
      }
      const snapshot = meter.snapshot();
      rows.push({
        scenario,
        rcu: snapshot.rcu / n,
        wcu: snapshot.wcu / n,
        calls: Object.fromEntries(
          Object.entries(snapshot.calls).map(([operation, count]) => [operation, count / n]),
        ),
      });
    };
    await perDelivery('idempotency: new delivery (reserve + complete)', (i) => `delivery-${i}`);
    await perDelivery('idempotency: redelivery (refused reservation, record read)', (i) => `delivery-${i}`);
  } finally {
    await dynamo.close();
  }
  return rows;
}
