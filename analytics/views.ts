/**
 * Views over the base tables, in the SQL subset DuckDB and Athena (Trino) share: the same text is
 * created as a DuckDB view locally and as a Glue `VIRTUAL_VIEW` (Presto view) in AWS.
 *
 * Keep to that subset: no `::` casts, no DuckDB-only functions, no integer division (cast to DOUBLE),
 * explicit column lists.
 */
import type { ColumnType } from './schema.ts';

export interface ViewDefinition {
  readonly name: string;
  readonly description: string;
  readonly columns: ReadonlyArray<{
    readonly name: string;
    readonly type: ColumnType;
    readonly description: string;
  }>;
  readonly sql: string;
}

export const ordersView: ViewDefinition = {
  name: 'orders',
  description:
    'One row per order of a live profile: the profile fold (merges, refunds, cancellations) with the order channel from its events.',
  columns: [
    { name: 'profile_id', type: 'VARCHAR', description: 'The live profile' },
    { name: 'order_key', type: 'VARCHAR', description: '`<connector>:<orderId>`' },
    { name: 'connector', type: 'VARCHAR', description: 'Connector that reported the order' },
    { name: 'order_id', type: 'VARCHAR', description: "The vendor's order id" },
    { name: 'channel', type: 'VARCHAR', description: '`online` or `pos` (from the order event)' },
    { name: 'placed_at', type: 'TIMESTAMP', description: 'When the order was placed' },
    { name: 'currency', type: 'VARCHAR', description: 'ISO 4217 currency' },
    { name: 'amount', type: 'BIGINT', description: 'Order total, minor units' },
    { name: 'refunded_amount', type: 'BIGINT', description: 'Refunded, minor units' },
    {
      name: 'net_amount',
      type: 'BIGINT',
      description: 'What the order is worth to lifetime value: total (0 if cancelled) minus refunds',
    },
    { name: 'cancelled', type: 'BOOLEAN', description: 'The order was cancelled' },
  ],
  sql: `SELECT
  o.profile_id,
  o.order_key,
  o.connector,
  o.order_id,
  c.channel,
  o.placed_at,
  o.currency,
  o.amount,
  o.refunded_amount,
  CASE WHEN o.cancelled OR o.amount IS NULL THEN 0 ELSE o.amount END - o.refunded_amount AS net_amount,
  o.cancelled
FROM profile_orders o
LEFT JOIN (
  SELECT connector, order_id, max(channel) AS channel
  FROM events
  WHERE type IN ('order.placed', 'order.paid')
  GROUP BY connector, order_id
) c ON c.connector = o.connector AND c.order_id = o.order_id`,
};

export const views: readonly ViewDefinition[] = [ordersView];
