/**
 * The example queries of docs/analytics.md. Each runs unchanged on DuckDB (`omnihub sql`) and on
 * Athena: the SQL subset both share (no `::`, no ordinal GROUP BY, DOUBLE before dividing). The
 * tests in test/analytics run every one of them on the demo's journey (answers derived from
 * `demo/truth.ts`) and on a small journey of edge cases; `scripts/analytics-examples.ts` prints
 * (or writes into the docs) their results on the demo.
 */
import type { QueryResult } from './duckdb.ts';

export interface ExampleQuery {
  readonly id: string;
  readonly title: string;
  readonly question: string;
  readonly sql: string;
}

export const exampleQueries: readonly ExampleQuery[] = [
  {
    id: 'cross-channel-customers',
    title: 'Cross-channel customers',
    question: 'How many customers buy in store, online, or both?',
    sql: `SELECT buys, count(*) AS customers
FROM (
  SELECT profile_id,
    CASE
      WHEN sum(CASE WHEN channel = 'online' THEN 1 ELSE 0 END) > 0
       AND sum(CASE WHEN channel = 'pos' THEN 1 ELSE 0 END) > 0 THEN 'online and in store'
      WHEN sum(CASE WHEN channel = 'online' THEN 1 ELSE 0 END) > 0 THEN 'online only'
      ELSE 'in store only'
    END AS buys
  FROM orders
  WHERE NOT cancelled
  GROUP BY profile_id
) buyers
GROUP BY buys
ORDER BY customers DESC, buys`,
  },
  {
    id: 'ltv-by-first-channel',
    title: 'Lifetime value by first channel',
    question: 'What are customers worth, by the system through which we first met them?',
    sql: `SELECT p.first_channel,
  count(DISTINCT p.profile_id) AS customers,
  count(DISTINCT o.profile_id) AS buyers,
  o.currency,
  coalesce(sum(o.net_amount), 0) AS lifetime_value_minor,
  round(CAST(coalesce(sum(o.net_amount), 0) AS DOUBLE) / count(DISTINCT p.profile_id) / 100, 2) AS per_customer
FROM profiles p
LEFT JOIN orders o ON o.profile_id = p.profile_id
GROUP BY p.first_channel, o.currency
ORDER BY lifetime_value_minor DESC, p.first_channel, o.currency`,
  },
  {
    id: 'consent-rate-by-source',
    title: 'Email consent rate by source',
    question: 'Of the people each source brought in, how many may we email?',
    sql: `SELECT p.first_channel AS source,
  count(*) AS people,
  sum(CASE WHEN c.status = 'subscribed' THEN 1 ELSE 0 END) AS subscribed,
  sum(CASE WHEN c.status IN ('unsubscribed', 'undeliverable') THEN 1 ELSE 0 END) AS opted_out_or_undeliverable,
  round(CAST(sum(CASE WHEN c.status = 'subscribed' THEN 1 ELSE 0 END) AS DOUBLE) / count(*), 3) AS consent_rate
FROM profiles p
JOIN consent c ON c.profile_id = p.profile_id AND c.channel = 'email' AND c.scope IS NULL
GROUP BY p.first_channel
ORDER BY consent_rate DESC, source`,
  },
  {
    id: 'merges-by-reason',
    title: 'Merges by reason',
    question: 'How many profiles were merged, on which identity, and which system brought the link?',
    sql: `SELECT m.reason, e.connector AS linked_by, count(*) AS merges
FROM merges m
LEFT JOIN events e ON e.event_id = m.event_id
GROUP BY m.reason, e.connector
ORDER BY merges DESC, m.reason, e.connector`,
  },
  {
    id: 'checkout-conversion',
    title: 'Checkout to order conversion',
    question: 'How many started checkouts became orders, and what did the abandoned ones hold?',
    sql: `SELECT currency,
  count(*) AS checkouts,
  sum(converted) AS converted,
  round(CAST(sum(converted) AS DOUBLE) / count(*), 3) AS conversion_rate,
  sum(CASE WHEN converted = 0 THEN amount ELSE 0 END) AS abandoned_value_minor
FROM (
  SELECT connector, cart_id,
    max(CASE WHEN cart_completed THEN 1 ELSE 0 END) AS converted,
    max(amount) AS amount,
    max(currency) AS currency
  FROM events
  WHERE type = 'cart.updated'
  GROUP BY connector, cart_id
) checkouts
GROUP BY currency
ORDER BY checkouts DESC, currency`,
  },
];

const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;

function markdownCell(value: string | number | boolean | null, type: string): string {
  if (value === null) return 'NULL';
  // A DOUBLE keeps its decimal point (`131.0`), so readers see the division happened in floating point.
  if (typeof value === 'number' && /^(DOUBLE|FLOAT)/.test(type) && Number.isInteger(value))
    return value.toFixed(1);
  return String(value).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * A query result as a Markdown table, the way docs/analytics.md shows results: numbers
 * right-aligned, NULL spelled out.
 *
 * @example
 * markdownTable(await session.query('SELECT 1 AS n'));
 * // | n |
 * // | ---: |
 * // | 1 |
 */
export function markdownTable(result: QueryResult): string {
  const types = result.columns.map((_name, index) => result.types[index] ?? '');
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    row(result.columns),
    row(types.map((type) => (NUMERIC_TYPE.test(type) ? '---:' : '---'))),
    ...result.rows.map((values) =>
      row(values.map((value, index) => markdownCell(value, types[index] ?? ''))),
    ),
  ].join('\n');
}
