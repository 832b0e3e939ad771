/**
 * The stage of the inbound path that needs no secret and no AWS call: a verified request's content
 * type, its deliveries (`parse`), and per delivery the topic's schema and translator, up to the
 * envelopes that would be published or the reason it is quarantined. The ingest pipeline runs it on
 * every verified request; `omnihub retranslate` runs it on archived requests with today's
 * translators. There is no second copy of it.
 *
 * Per delivery, never per request: in a batch (HubSpot, SendGrid) each element is validated and
 * translated on its own, and one that fails becomes a quarantined outcome while its siblings go on.
 * Only what the sender must fix fails the whole request: a content type the connector does not take
 * and a body that cannot be read (`ValidationError`, 400).
 */
import type { CanonicalEventDraft, ConnectorDefinition, Delivery, WebhookRequest } from '../connector.ts';
import { ValidationError } from '../errors.ts';
import { catalog, dataSchemaUri, isEventType } from '../events/catalog.ts';
import type { Envelope } from '../events/envelope.ts';
import { translatedEventId } from '../events/event-id.ts';
import { keptRequestOf } from './kept-request.ts';
import { describeIssues, type QuarantineRecord, quarantineRecordOf } from './quarantine.ts';

/** What became of one delivery of a request. `index` is its position among the request's deliveries. */
export type DeliveryOutcome =
  | {
      readonly kind: 'translated';
      readonly index: number;
      readonly delivery: Delivery;
      /** The ledger key: `<connector>:<deliveryId>`. */
      readonly key: string;
      /** May be empty: a translator that finds nothing to say publishes nothing. */
      readonly envelopes: readonly Envelope[];
    }
  | {
      readonly kind: 'quarantined';
      readonly index: number;
      readonly delivery: Delivery;
      readonly record: QuarantineRecord;
    }
  /** A topic the connector does not translate: acknowledged, counted, not published. */
  | { readonly kind: 'untranslated'; readonly index: number; readonly delivery: Delivery }
  /** The same delivery id earlier in the same batch. */
  | { readonly kind: 'repeated'; readonly index: number; readonly delivery: Delivery };

export interface TranslateOptions {
  /** Carried on every envelope (ingest: the invocation's request id). */
  readonly correlationId: string;
  /** The request's id in the raw archive, recorded on quarantined items. */
  readonly requestId: string;
}

/** The media type of a request, lower case, without parameters (`''` when none). */
export function mediaTypeOf(request: WebhookRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The request's deliveries, after the checks that refuse a whole verified request: its content type,
 * and a body `parse` can read.
 *
 * @throws ValidationError 400 `unsupported_content_type`, or the connector's own code (`malformed_body`, ...).
 */
export function deliveriesOf(connector: ConnectorDefinition, request: WebhookRequest): Delivery[] {
  const mediaType = mediaTypeOf(request);
  const { contentTypes } = connector.inbound;
  if (!contentTypes.includes(mediaType)) {
    throw new ValidationError(
      `content type '${mediaType || '(none)'}' is not accepted; expected ${contentTypes.join(' or ')}`,
      'unsupported_content_type',
    );
  }
  return connector.inbound.parse(request);
}

/**
 * Every delivery of a verified request, translated or quarantined.
 *
 * @throws ValidationError (400) only for the whole request, as {@link deliveriesOf}.
 * @example
 * const outcomes = translateRequest(shopify, request, { correlationId, requestId: correlationId });
 */
export function translateRequest(
  connector: ConnectorDefinition,
  request: WebhookRequest,
  options: TranslateOptions,
): DeliveryOutcome[] {
  const deliveries = deliveriesOf(connector, request);
  const seen = new Set<string>();
  return deliveries.map((delivery, index) => {
    if (seen.has(delivery.deliveryId)) return { kind: 'repeated', index, delivery };
    seen.add(delivery.deliveryId);
    return translateDelivery(connector, delivery, index, request, options);
  });
}

/**
 * One delivery through its topic's schema and translator, and each draft through the catalog. A
 * failure at any step (an unreadable element, a payload that does not match, a translator that
 * throws or drafts data the catalog refuses) is a quarantined outcome saying why.
 */
export function translateDelivery(
  connector: ConnectorDefinition,
  delivery: Delivery,
  index: number,
  request: WebhookRequest,
  options: TranslateOptions,
): DeliveryOutcome {
  const quarantined = (reason: string): DeliveryOutcome => ({
    kind: 'quarantined',
    index,
    delivery,
    record: quarantineRecordOf({
      connector: connector.id,
      delivery,
      index,
      reason,
      requestId: options.requestId,
      request: keptRequestOf(connector.id, request),
    }),
  });
  if (delivery.unreadable !== undefined) return quarantined(delivery.unreadable);
  const { topics } = connector.inbound;
  const definition = Object.hasOwn(topics, delivery.topic) ? topics[delivery.topic] : undefined;
  if (!definition) return { kind: 'untranslated', index, delivery };
  const payload = definition.schema.safeParse(delivery.payload);
  if (!payload.success) {
    return quarantined(
      `does not match the ${delivery.topic} payload: ${describeIssues(payload.error.issues)}`,
    );
  }
  try {
    const drafts = definition.translate(payload.data, {
      connector: connector.id,
      deliveryId: delivery.deliveryId,
      topic: delivery.topic,
      request,
    });
    const envelopes = drafts.map((draft, position) =>
      envelopeOf(connector.id, draft, delivery, position, request, options.correlationId),
    );
    return { kind: 'translated', index, delivery, key: `${connector.id}:${delivery.deliveryId}`, envelopes };
  } catch (error) {
    return quarantined(`could not be translated: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A translator's draft as a complete envelope, checked against the catalog. */
function envelopeOf(
  connectorId: string,
  draft: CanonicalEventDraft,
  delivery: Delivery,
  position: number,
  request: WebhookRequest,
  correlationId: string,
): Envelope {
  if (!isEventType(draft.type)) throw new TypeError(`unknown canonical event type ${draft.type}`);
  const entry = catalog[draft.type];
  const parsed = entry.data.safeParse(draft.data);
  if (!parsed.success) {
    throw new TypeError(
      `${draft.type} data does not match its schema: ${describeIssues(parsed.error.issues)}`,
    );
  }
  const occurred = new Date(draft.occurredAt);
  if (Number.isNaN(occurred.getTime())) throw new TypeError(`invalid occurredAt for ${draft.type}`);
  const occurredAt = occurred.toISOString();
  const firstExternal = draft.identities.find((identity) => identity.type === 'external');
  const subject =
    draft.subject ??
    (firstExternal?.type === 'external' ? `${firstExternal.system}:${firstExternal.value}` : undefined);
  return {
    id: translatedEventId(connectorId, delivery.deliveryId, position, {
      type: draft.type,
      occurredAt,
      subject,
      identities: draft.identities,
      data: parsed.data,
    }),
    type: draft.type,
    source: `omnihub.${connectorId}`,
    ...(subject !== undefined ? { subject } : {}),
    time: occurredAt,
    occurredAt,
    receivedAt: request.receivedAt.toISOString(),
    schemaVersion: entry.version,
    dataschema: dataSchemaUri(draft.type),
    origin: { connector: connectorId, deliveryId: delivery.deliveryId, topic: delivery.topic },
    identities: draft.identities,
    correlationId,
    data: parsed.data,
  };
}
