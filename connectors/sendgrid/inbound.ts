/**
 * SendGrid Event Webhook -> canonical events. A body is a JSON array of events; each element is one
 * delivery (dedupe key `sg_event_id`, topic `event`).
 */
import type * as z from 'zod/mini';
import {
  type CanonicalEventDraft,
  type Delivery,
  draft,
  type TopicDefinition,
  topic,
  type WebhookRequest,
} from '../../core/connector.ts';
import { ValidationError } from '../../core/errors.ts';
import type { EventData } from '../../core/events/catalog.ts';
import { identitiesOf } from '../../core/identity/identity.ts';
import { parseJson } from '../../core/ingest/body.ts';
import { describeIssues, unreadableElement } from '../../core/ingest/quarantine.ts';
import {
  type AnyMessageEvent,
  BatchElement,
  BounceEvent,
  ClickEvent,
  ConsentEvent,
  DeferredEvent,
  DroppedEvent,
  GroupConsentEvent,
  MessageEvent,
  MILLISECONDS_FROM,
} from './schema.ts';

/**
 * Splits a verified body into one delivery per event. An element that is not an event with
 * `sg_event_id` and `event` is an unreadable delivery (quarantined; its siblings go on).
 *
 * @throws ValidationError 400 `malformed_body` when the body is not a JSON array.
 * @example
 * parseEvents(request); // [{ deliveryId: 'ZGVsaXZlcmVk…', topic: 'delivered', payload: {…} }, …]
 */
export function parseEvents(request: WebhookRequest): Delivery[] {
  const body = parseJson(request.body);
  if (!Array.isArray(body)) {
    throw new ValidationError('body is not a JSON array of SendGrid events', 'malformed_body');
  }
  return body.map((element: unknown, position) => {
    const parsed = BatchElement.safeParse(element);
    if (!parsed.success) {
      const invalid = new Set(parsed.error.issues.map((issue) => String(issue.path[0])));
      const fields: Record<string, unknown> =
        typeof element === 'object' && element !== null && !Array.isArray(element)
          ? (element as Record<string, unknown>)
          : {};
      const readable = (name: string) => typeof fields[name] === 'string' && !invalid.has(name);
      return unreadableElement(
        request,
        position,
        element,
        `element ${position} is not a SendGrid event: ${describeIssues(parsed.error.issues)}`,
        {
          ...(readable('sg_event_id') ? { deliveryId: String(fields.sg_event_id) } : {}),
          ...(readable('event') ? { topic: String(fields.event) } : {}),
        },
      );
    }
    return { deliveryId: parsed.data.sg_event_id, topic: parsed.data.event, payload: element };
  });
}

type MessageEventType =
  | 'message.delivered'
  | 'message.opened'
  | 'message.clicked'
  | 'message.bounced'
  | 'message.failed'
  | 'message.deferred';
type MessageData = EventData<MessageEventType>;
/** The per-event part of a message event's data; `undefined` values are left out. */
type MessageDetails = { readonly [K in 'reason' | 'url' | 'bounceType']?: MessageData[K] | undefined };

/** SendGrid's Unix seconds (or milliseconds, see `MILLISECONDS_FROM`) as ISO 8601. */
export function occurredAt(timestamp: number): string {
  return new Date(timestamp < MILLISECONDS_FROM ? timestamp * 1000 : timestamp).toISOString();
}

/** `category` is a string for one category and an array for several; canonical data always has an array. */
export function categoriesOf(category: AnyMessageEvent['category']): string[] | undefined {
  if (category === undefined) return undefined;
  return typeof category === 'string' ? [category] : [...category];
}

/** `bounce` and `blocked` are the documented bounce types; anything else is left out rather than guessed. */
export function bounceTypeOf(type: string | undefined): MessageData['bounceType'] {
  return type === 'bounce' || type === 'blocked' ? type : undefined;
}

/** The ASM (suppression) group scope of a group (un/re)subscribe: `group:42`, also for `"42"` or `"042"`. */
export function groupScope(asmGroupId: GroupConsentEvent['asm_group_id']): string {
  return `group:${Number(asmGroupId)}`;
}

/** Drops keys whose value is undefined, so published data never carries `"reason": undefined` keys. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/**
 * The canonical message event for any delivery/engagement event; `details` adds the event's own fields.
 * `messageId` is `""` when SendGrid sends no message id (an asynchronous bounce): the event is still
 * about the address in `email`.
 */
export function toMessageEvent(type: MessageEventType, event: AnyMessageEvent, details: MessageDetails = {}) {
  return draft(type, {
    occurredAt: occurredAt(event.timestamp),
    identities: identitiesOf({ email: event.email }),
    data: withoutUndefined({
      channel: 'email' as const,
      messageId: event.sg_message_id ?? '',
      vendorStatus: event.event,
      categories: categoriesOf(event.category),
      ...details,
    }),
  });
}

/**
 * A message topic: the schema of the vendor event, the canonical type, and which of the event's own
 * fields go into the canonical data. One row per SendGrid event in the table below.
 */
function messageTopic<S extends z.ZodMiniType<AnyMessageEvent>>(
  type: MessageEventType,
  schema: S,
  details: (event: z.infer<S>) => MessageDetails = () => ({}),
): TopicDefinition<S> {
  return topic(schema, (event): CanonicalEventDraft[] => [toMessageEvent(type, event, details(event))]);
}

type ConsentData = EventData<'consent.changed'>;

/** The canonical consent change for an address; consent always concerns the email channel here. */
function consentChanged(event: ConsentEvent, change: Omit<ConsentData, 'channel'>) {
  return draft('consent.changed', {
    occurredAt: occurredAt(event.timestamp),
    identities: identitiesOf({ email: event.email }),
    data: withoutUndefined({ channel: 'email' as const, ...change }),
  });
}

/** `unsubscribe`: a global unsubscribe, from every message of the account. */
export function toUnsubscribed(event: ConsentEvent): CanonicalEventDraft[] {
  return [consentChanged(event, { status: 'unsubscribed', reason: 'unsubscribe' })];
}

/** `spamreport`: the recipient marked a message as spam; SendGrid suppresses the address from then on. */
export function toSpamReported(event: ConsentEvent): CanonicalEventDraft[] {
  return [consentChanged(event, { status: 'unsubscribed', reason: 'spamreport' })];
}

/** `group_unsubscribe`: unsubscribed from one suppression group only, not from the whole channel. */
export function toGroupUnsubscribed(event: GroupConsentEvent): CanonicalEventDraft[] {
  return [consentChanged(event, { status: 'unsubscribed', scope: groupScope(event.asm_group_id) })];
}

/** `group_resubscribe`: back into one suppression group. */
export function toGroupResubscribed(event: GroupConsentEvent): CanonicalEventDraft[] {
  return [consentChanged(event, { status: 'subscribed', scope: groupScope(event.asm_group_id) })];
}

/**
 * SendGrid event -> schema + translator. Not listed (acknowledged, not published): `processed`, and
 * any event SendGrid adds later (e.g. account status changes).
 */
export const topics: Readonly<Record<string, TopicDefinition>> = {
  delivered: messageTopic('message.delivered', MessageEvent),
  open: messageTopic('message.opened', MessageEvent),
  click: messageTopic('message.clicked', ClickEvent, (event) => ({ url: event.url })),
  bounce: messageTopic('message.bounced', BounceEvent, (event) => ({
    reason: event.reason,
    bounceType: bounceTypeOf(event.type),
  })),
  dropped: messageTopic('message.failed', DroppedEvent, (event) => ({ reason: event.reason })),
  // The receiving server's temporary answer is why delivery was deferred.
  deferred: messageTopic('message.deferred', DeferredEvent, (event) => ({ reason: event.response })),
  unsubscribe: topic(ConsentEvent, toUnsubscribed),
  group_unsubscribe: topic(GroupConsentEvent, toGroupUnsubscribed),
  group_resubscribe: topic(GroupConsentEvent, toGroupResubscribed),
  spamreport: topic(ConsentEvent, toSpamReported),
};
