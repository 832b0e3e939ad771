/**
 * Twilio Programmable Messaging: one webhook request is one delivery. Twilio sends no topic header,
 * so the topic is derived from the parameters: a status callback carries `MessageStatus`, an
 * incoming message carries `SmsStatus=received` and a `Body`.
 */

import {
  type CanonicalEventDraft,
  type Delivery,
  draft,
  type HttpResponse,
  type TopicDefinition,
  type TranslateContext,
  topic,
  type WebhookRequest,
} from '../../core/connector.ts';
import { ValidationError } from '../../core/errors.ts';
import type { EventType } from '../../core/events/catalog.ts';
import { identitiesOf, normalizePhone } from '../../core/identity/identity.ts';
import { parseForm, parseJson } from '../../core/ingest/body.ts';
import { IncomingMessage, StatusCallback } from './schema.ts';

/** Topic of an incoming message webhook (the "A message comes in" URL). */
export const INBOUND_TOPIC = 'message.inbound';
/** Topic of a message status callback (`StatusCallback` URL). */
export const STATUS_TOPIC = 'message.status';
/** Anything else that carries a MessageSid: acknowledged, never published. */
export const OTHER_TOPIC = 'message.other';

/**
 * What `new twilio.twiml.MessagingResponse().toString()` prints (twilio-node 6.2.0): an empty
 * response, so Twilio sends no reply of its own. Its opt-out auto-replies are not affected.
 */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

type Fields = Record<string, string>;

/** Form parameters as an object of first values (a repeated name keeps its first value). */
function formFields(body: Buffer): Fields {
  return Object.fromEntries([...parseForm(body)].map(([name, values]) => [name, values[0] ?? '']));
}

/**
 * A JSON body (the `bodySHA256` variant) as the same flat string map: scalars become strings, nested
 * values are dropped, so one schema serves both encodings.
 */
function jsonFields(body: Buffer): Fields {
  const parsed = parseJson(body);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('a JSON body must be an object of message parameters', 'malformed_body');
  }
  const scalars = Object.entries(parsed).filter(
    (entry): entry is [string, string | number | boolean] =>
      typeof entry[1] === 'string' || typeof entry[1] === 'number' || typeof entry[1] === 'boolean',
  );
  // fromEntries defines own properties, so a `__proto__` key stays data and never touches the prototype.
  return Object.fromEntries(scalars.map(([name, value]) => [name, String(value)]));
}

function mediaTypeOf(request: WebhookRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The single delivery of a Twilio request. Delivery ids: `${MessageSid}:received` for an incoming
 * message, `${MessageSid}:${MessageStatus}` for a status callback (each status fires once per message).
 * Throws `ValidationError` (400) when `MessageSid` is missing: the URL is wired to something other than
 * Programmable Messaging (a voice call webhook, say).
 *
 * @example parseTwilioRequest(request) // [{ deliveryId: 'SM…:received', topic: 'message.inbound', payload }]
 */
export function parseTwilioRequest(request: WebhookRequest): Delivery[] {
  const fields =
    mediaTypeOf(request) === 'application/json' ? jsonFields(request.body) : formFields(request.body);
  const field = (name: string): string | undefined =>
    Object.hasOwn(fields, name) ? fields[name] : undefined;
  const messageSid = field('MessageSid');
  if (messageSid === undefined || messageSid.trim() === '') {
    throw new ValidationError(
      'the MessageSid parameter is missing: only Programmable Messaging webhooks (incoming messages, status callbacks) are accepted',
      'missing_message_sid',
    );
  }
  const status = field('MessageStatus');
  if (status !== undefined) {
    return [{ deliveryId: `${messageSid}:${status}`, topic: STATUS_TOPIC, payload: fields }];
  }
  const smsStatus = field('SmsStatus');
  if (smsStatus === 'received' || field('Body') !== undefined) {
    return [{ deliveryId: `${messageSid}:received`, topic: INBOUND_TOPIC, payload: fields }];
  }
  return [{ deliveryId: `${messageSid}:${smsStatus ?? 'unknown'}`, topic: OTHER_TOPIC, payload: fields }];
}

/**
 * Twilio address prefixes and the catalog channel they belong to. A bare number (or short code) is
 * SMS/MMS. RCS counts as SMS: Twilio applies opt-outs across SMS, MMS and RCS alike. WhatsApp,
 * Messenger and other prefixed channels have no catalog channel yet and are not translated.
 */
const CHANNEL_BY_ADDRESS_PREFIX: Readonly<Record<string, 'sms'>> = { '': 'sms', rcs: 'sms' };

/** The address without its channel prefix when it is an SMS address; undefined for other channels. */
export function smsAddress(raw: string): string | undefined {
  const match = /^([a-z][a-z0-9-]*):(.*)$/i.exec(raw.trim());
  const prefix = match?.[1]?.toLowerCase() ?? '';
  const address = match ? (match[2] ?? '') : raw.trim();
  return Object.hasOwn(CHANNEL_BY_ADDRESS_PREFIX, prefix) ? address.trim() : undefined;
}

/** Twilio's default opt-out keywords (a single-word message, any case). */
export const OPT_OUT_KEYWORDS: ReadonlySet<string> = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
/** Twilio's default opt-in keywords. HELP and INFO only trigger an auto-reply: not consent. */
export const OPT_IN_KEYWORDS: ReadonlySet<string> = new Set(['START', 'YES', 'UNSTOP']);

/** What an incoming message does to SMS consent. */
export interface ConsentChange {
  readonly status: 'subscribed' | 'unsubscribed';
  /** The keyword that caused it, upper-cased. */
  readonly reason: string;
}

const OPT_OUT_TYPE_STATUS: Readonly<Record<string, ConsentChange['status'] | null>> = {
  STOP: 'unsubscribed',
  START: 'subscribed',
  HELP: null,
};

/**
 * The consent change an incoming message body means, if any.
 *
 * `OptOutType` (sent only by Messaging Services with Advanced Opt-Out) wins when present: Twilio has
 * already matched the body against that service's keyword list, which may include custom or
 * other-language keywords and exclude some defaults. Otherwise the body must be exactly one of
 * Twilio's default keywords, ignoring case and surrounding whitespace. Keywords are matched on ASCII
 * letters only, so look-alikes that upper-case into a keyword (`ſtop` -> `STOP`) do not count.
 *
 * @example consentChangeOf(' stop ') // { status: 'unsubscribed', reason: 'STOP' }
 * @example consentChangeOf('Stop please') // undefined
 * @example consentChangeOf('ARRET', 'STOP') // { status: 'unsubscribed', reason: 'ARRET' }
 */
export function consentChangeOf(body: string, optOutType?: string): ConsentChange | undefined {
  const trimmed = body.trim();
  const keyword = /^[A-Za-z]+$/.test(trimmed) ? trimmed.toUpperCase() : undefined;
  const signal = optOutType?.trim().toUpperCase() ?? '';
  if (Object.hasOwn(OPT_OUT_TYPE_STATUS, signal)) {
    const status = OPT_OUT_TYPE_STATUS[signal];
    return status ? { status, reason: keyword ?? signal } : undefined;
  }
  if (keyword === undefined) return undefined;
  if (OPT_OUT_KEYWORDS.has(keyword)) return { status: 'unsubscribed', reason: keyword };
  if (OPT_IN_KEYWORDS.has(keyword)) return { status: 'subscribed', reason: keyword };
  return undefined;
}

/** Twilio sends no event time: the moment we received the request stands in for it. */
function occurredAt(context: TranslateContext): string {
  return context.request.receivedAt.toISOString();
}

/**
 * An incoming SMS: a keyword becomes `consent.changed` for the sender's phone, anything else
 * (HELP and INFO included) `message.received`.
 */
export function toIncomingMessageEvents(
  message: IncomingMessage,
  context: TranslateContext,
): CanonicalEventDraft[] {
  const from = smsAddress(message.From);
  const to = smsAddress(message.To);
  if (from === undefined || to === undefined) return [];
  const common = {
    occurredAt: occurredAt(context),
    identities: identitiesOf({ phone: from }),
    subject: `twilio:${message.MessageSid}`,
  };
  const consent = consentChangeOf(message.Body, message.OptOutType);
  if (consent) {
    return [
      draft('consent.changed', {
        ...common,
        data: { channel: 'sms', status: consent.status, reason: consent.reason },
      }),
    ];
  }
  return [
    draft('message.received', {
      ...common,
      // Short codes and sender ids are not phone numbers: keep them as Twilio wrote them.
      data: {
        channel: 'sms',
        messageId: message.MessageSid,
        to: normalizePhone(to) ?? to,
        body: message.Body,
      },
    }),
  ];
}

type MessageStatusEvent = Extract<
  EventType,
  'message.sent' | 'message.delivered' | 'message.failed' | 'message.opened'
>;

/** Status -> canonical event. Every other status (queued, sending, accepted, scheduled, canceled, …) is not published. */
export const STATUS_EVENTS: Readonly<Record<string, MessageStatusEvent>> = {
  sent: 'message.sent',
  delivered: 'message.delivered',
  undelivered: 'message.failed',
  failed: 'message.failed',
  read: 'message.opened',
};

/** A status callback about a message we sent: the person is `To`. */
export function toMessageStatusEvents(
  callback: StatusCallback,
  context: TranslateContext,
): CanonicalEventDraft[] {
  const status = callback.MessageStatus.toLowerCase();
  const type = Object.hasOwn(STATUS_EVENTS, status) ? STATUS_EVENTS[status] : undefined;
  if (type === undefined) return [];
  const recipient = callback.To === undefined ? '' : smsAddress(callback.To);
  if (recipient === undefined) return [];
  const reason = type === 'message.failed' && callback.ErrorCode ? { reason: callback.ErrorCode } : {};
  return [
    draft(type, {
      occurredAt: occurredAt(context),
      identities: identitiesOf({ phone: recipient }),
      subject: `twilio:${callback.MessageSid}`,
      data: {
        channel: 'sms',
        messageId: callback.MessageSid,
        vendorStatus: callback.MessageStatus,
        ...reason,
      },
    }),
  ];
}

/** Topic -> schema and translator. `message.other` is deliberately absent: acknowledged, not published. */
export const topics: Readonly<Record<string, TopicDefinition>> = {
  [INBOUND_TOPIC]: topic(IncomingMessage, toIncomingMessageEvents),
  [STATUS_TOPIC]: topic(StatusCallback, toMessageStatusEvents),
};

/**
 * Every accepted request gets the empty TwiML response: Twilio needs it for incoming messages (no
 * reply is sent) and ignores the body of status callbacks, so one answer serves both.
 */
export function acknowledgeWithEmptyTwiml(): HttpResponse {
  return { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: EMPTY_TWIML };
}
