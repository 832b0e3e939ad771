/**
 * The analytics tables: one typed list of names, columns and meanings, shared by the local export
 * (DuckDB), the AWS side (Glue tables, `lib/analytics.ts`) and `docs/analytics.md`.
 *
 * Every row is produced by the same flattening code in both places (`analytics/flatten.ts`), so a
 * query sees the same columns with the same meaning on DuckDB and on Athena. Types are the common
 * subset of both: VARCHAR (Glue `string`), BIGINT, INTEGER, BOOLEAN, TIMESTAMP (UTC, no zone).
 */

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'BOOLEAN' | 'TIMESTAMP';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly description: string;
}

export interface TableDefinition {
  readonly name: string;
  readonly description: string;
  /** Where the rows come from; decides the AWS storage (bus stream or profile snapshot). */
  readonly origin: 'events' | 'profiles';
  readonly columns: readonly Column[];
}

const col = (name: string, type: ColumnType, description: string): Column => ({ name, type, description });

export const eventsTable: TableDefinition = {
  name: 'events',
  origin: 'events',
  description:
    'Every canonical event put on the bus, one row each, with the common `data` fields as columns.',
  columns: [
    col('event_id', 'VARCHAR', 'Canonical event id (stable across vendor redeliveries)'),
    col('type', 'VARCHAR', 'Event type, e.g. `order.placed` (see docs/events.md)'),
    col(
      'connector',
      'VARCHAR',
      'Connector that received it (`shopify`, `square`, ...; `omnihub` for hub events)',
    ),
    col('topic', 'VARCHAR', "The vendor's topic, e.g. `orders/create`"),
    col('delivery_id', 'VARCHAR', "The vendor's delivery id"),
    col('subject', 'VARCHAR', 'What the event is about, e.g. `shopify:706405506930370084`'),
    col('schema_version', 'INTEGER', 'Version of the `data` schema'),
    col('occurred_at', 'TIMESTAMP', "When it happened, by the vendor's clock (UTC)"),
    col('received_at', 'TIMESTAMP', 'When Omnihub received the delivery (UTC)'),
    col('correlation_id', 'VARCHAR', 'Carried from ingest through the bus to profile and sync'),
    col('identity_count', 'INTEGER', 'How many identities (email, phone, system ids) the event names'),
    col('profile_id', 'VARCHAR', '`profile.*` events: the (surviving) profile'),
    col('merged_profile_id', 'VARCHAR', '`profile.merged`: the profile that now redirects'),
    col('order_id', 'VARCHAR', "`order.*`: the vendor's order id"),
    col('order_number', 'VARCHAR', '`order.placed`/`order.paid`: human-facing order name'),
    col(
      'channel',
      'VARCHAR',
      '`order.*`: `online` or `pos`; `message.*`/`consent.changed`: `email` or `sms`',
    ),
    col('amount', 'BIGINT', 'Order/cart total, refund or cancellation amount in minor units'),
    col('currency', 'VARCHAR', 'ISO 4217 currency of `amount`'),
    col('financial_status', 'VARCHAR', "`order.placed`/`order.paid`: the vendor's payment status"),
    col('line_item_count', 'INTEGER', '`order.*`/`cart.updated`: number of line items'),
    col('refund_id', 'VARCHAR', '`order.refunded`: refund id'),
    col('cart_id', 'VARCHAR', '`cart.updated`: checkout/cart id'),
    col('cart_completed', 'BOOLEAN', '`cart.updated`: the checkout became an order'),
    col('message_id', 'VARCHAR', "`message.*`: the vendor's message id"),
    col('vendor_status', 'VARCHAR', "`message.*`: the vendor's own status or event name"),
    col('status', 'VARCHAR', '`consent.changed`: `subscribed` or `unsubscribed`'),
    col('scope', 'VARCHAR', '`consent.changed`: narrower than the channel, e.g. `group:42`'),
    col('reason', 'VARCHAR', 'Cancellation, refund, bounce or consent reason'),
    col('system', 'VARCHAR', '`customer.*`: connector id of the system of record'),
    col('external_id', 'VARCHAR', "`customer.*`: the system's own id for the person"),
    col('loyalty_balance', 'BIGINT', '`loyalty.updated`: points balance'),
    col('dt', 'VARCHAR', 'UTC date (YYYY-MM-DD) the bus delivered the event; the partition in AWS'),
  ],
};

export const profilesTable: TableDefinition = {
  name: 'profiles',
  origin: 'profiles',
  description: 'One row per person: live unified profiles only (merged profiles are redirects, not people).',
  columns: [
    col('profile_id', 'VARCHAR', 'Unified profile id'),
    col('created_at', 'TIMESTAMP', 'When the hub created the profile'),
    col('updated_at', 'TIMESTAMP', 'Last change'),
    col('first_seen_at', 'TIMESTAMP', 'Vendor time of the earliest event known for the person'),
    col(
      'first_channel',
      'VARCHAR',
      'Connector of that earliest event: `shopify` (online store), `square` (point of sale), `hubspot`, `sendgrid`, `twilio`',
    ),
    col('channels', 'VARCHAR', 'Connectors that reported the person, sorted, comma-separated'),
    col('channel_count', 'INTEGER', 'How many connectors reported the person'),
    col('identity_count', 'INTEGER', 'Identities (emails, phones, system ids) of the person'),
    col('order_count', 'INTEGER', 'Orders with a total that were not cancelled'),
    col('first_order_at', 'TIMESTAMP', 'Earliest order'),
    col('last_order_at', 'TIMESTAMP', 'Latest order'),
    col('email_consent', 'VARCHAR', '`subscribed`, `unsubscribed`, `undeliverable` or `unknown`'),
    col('sms_consent', 'VARCHAR', '`subscribed`, `unsubscribed`, `undeliverable` or `unknown`'),
    col('loyalty_balance', 'BIGINT', 'Loyalty points balance, when known'),
    col('country', 'VARCHAR', 'Address country (ISO 3166-1 alpha-2 when the vendor gave one)'),
    col('merged_count', 'INTEGER', 'Profiles merged into this one'),
  ],
};

export const identitiesTable: TableDefinition = {
  name: 'identities',
  origin: 'profiles',
  description: 'Each identity of each live profile (personal data: emails and phone numbers).',
  columns: [
    col('profile_id', 'VARCHAR', 'The live profile'),
    col('identity_key', 'VARCHAR', '`email:…`, `phone:…` or `ext:<system>:<id>`'),
    col('identity_type', 'VARCHAR', '`email`, `phone` or `external`'),
    col('system', 'VARCHAR', '`external`: the connector id'),
    col('value', 'VARCHAR', 'The email (lower case), phone (E.164) or system id'),
  ],
};

export const consentTable: TableDefinition = {
  name: 'consent',
  origin: 'profiles',
  description:
    'Consent per live profile and channel: always one `email` and one `sms` row (scope empty), plus scoped rows (`group:42`).',
  columns: [
    col('profile_id', 'VARCHAR', 'The live profile'),
    col('channel', 'VARCHAR', '`email` or `sms`'),
    col('scope', 'VARCHAR', 'Empty for the whole channel, else e.g. `group:42` (SendGrid ASM group)'),
    col('status', 'VARCHAR', '`subscribed`, `unsubscribed`, `undeliverable` or `unknown` (never reported)'),
    col('reason', 'VARCHAR', 'What caused it: keyword, spamreport, bounce reason...'),
    col('source', 'VARCHAR', 'Connector that reported the current status; empty when unknown'),
    col('updated_at', 'TIMESTAMP', 'Vendor time of that report'),
  ],
};

export const mergesTable: TableDefinition = {
  name: 'merges',
  origin: 'profiles',
  description: 'Every profile merged into a live profile, and the identity that showed they were one person.',
  columns: [
    col('profile_id', 'VARCHAR', 'The live profile the merged one now belongs to'),
    col('merged_profile_id', 'VARCHAR', 'The profile that was merged (now a redirect)'),
    col(
      'reason',
      'VARCHAR',
      'Kind of the identity (of the linking event) that led to the merged profile: `email`, `phone`, `ext:<system>` (same system id), `order:<connector>`/`payment:<connector>` (same order or payment)',
    ),
    col('identity_key', 'VARCHAR', 'The linking identity key'),
    col('event_id', 'VARCHAR', 'The event that linked them (join `events.event_id`)'),
    col('merged_at', 'TIMESTAMP', 'Vendor time of that event'),
  ],
};

export const profileOrdersTable: TableDefinition = {
  name: 'profile_orders',
  origin: 'profiles',
  description: 'Orders as folded into live profiles (merged profiles included); use the `orders` view.',
  columns: [
    col('profile_id', 'VARCHAR', 'The live profile'),
    col('order_key', 'VARCHAR', '`<connector>:<orderId>`'),
    col('connector', 'VARCHAR', 'Connector that reported the order'),
    col('order_id', 'VARCHAR', "The vendor's order id"),
    col('placed_at', 'TIMESTAMP', 'When the order was placed'),
    col('amount', 'BIGINT', 'Order total in minor units; empty when only a refund is known'),
    col('currency', 'VARCHAR', 'ISO 4217 currency'),
    col('refunded_amount', 'BIGINT', 'Sum of refunds in minor units (0 when none)'),
    col('cancelled', 'BOOLEAN', 'The order was cancelled'),
  ],
};

/** Base tables, written by the export (locally) and by the stream and snapshot (AWS). */
export const tables: readonly TableDefinition[] = [
  eventsTable,
  profilesTable,
  identitiesTable,
  consentTable,
  mergesTable,
  profileOrdersTable,
];

export type TableName = 'events' | 'profiles' | 'identities' | 'consent' | 'merges' | 'profile_orders';

/** A row of a table: column name -> value (TIMESTAMP as `YYYY-MM-DD HH:MM:SS.mmm`, UTC). */
export type Row = Readonly<Record<string, string | number | boolean | null>>;

export function tableNamed(name: string): TableDefinition {
  const found = tables.find((table) => table.name === name);
  if (!found) throw new Error(`no analytics table ${name}`);
  return found;
}
