/**
 * Every canonical event type and the current version of its `data` schema. The schemas themselves are
 * in `catalog.ts`, which takes its versions from here; this module is apart so that functions that only
 * name event types and their schema URIs (the profile writer, sync, the profile API) do not build every
 * catalog schema at cold start.
 */
export const EVENT_VERSIONS = {
  'customer.upserted': 1,
  'customer.deleted': 1,
  'customer.merged': 1,
  'customer.linked': 1,
  'order.placed': 1,
  'order.paid': 1,
  'order.cancelled': 1,
  'order.refunded': 1,
  'cart.updated': 1,
  'message.sent': 1,
  'message.delivered': 1,
  'message.deferred': 1,
  'message.opened': 1,
  'message.clicked': 1,
  'message.bounced': 1,
  'message.failed': 1,
  'message.received': 1,
  'consent.changed': 1,
  'loyalty.updated': 1,
  'profile.updated': 1,
  'profile.merged': 1,
  'profile.erased': 1,
} as const;

export type EventType = keyof typeof EVENT_VERSIONS;

/** The public URI of the JSON Schema for a type's data. */
export function dataSchemaUri(type: EventType, version: number = EVENT_VERSIONS[type]): string {
  return `https://omnihub.dev/schemas/${type}.v${version}.json`;
}
