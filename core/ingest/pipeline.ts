/**
 * The inbound path every connector shares: configured? -> size -> content type -> verify (raw bytes)
 * -> parse -> validate + translate -> dedupe (per delivery) -> publish -> acknowledge.
 *
 * It knows nothing about Lambda or HTTP servers: it takes a {@link WebhookRequest} and returns an
 * {@link HttpResponse}, with its collaborators passed in, so tests and benchmarks drive it directly.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventPublisher } from '../aws/publisher.ts';
import type {
  CanonicalEventDraft,
  ConnectorDefinition,
  Delivery,
  HttpResponse,
  SecretValues,
  WebhookRequest,
} from '../connector.ts';
import {
  ClientError,
  ConnectorNotConfiguredError,
  RetryableError,
  SignatureError,
  ValidationError,
} from '../errors.ts';
import { catalog, dataSchemaUri, isEventType } from '../events/catalog.ts';
import type { Envelope } from '../events/envelope.ts';
import { deterministicEventId } from '../events/event-id.ts';
import type { SecretSource } from '../secrets.ts';
import type { DeliveryLedger } from './ledger.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface IngestDependencies {
  readonly secrets: SecretSource;
  readonly ledger: DeliveryLedger;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface IngestInvocation {
  /** Time left before the platform stops this invocation; bounds how long a reservation is held. */
  readonly remainingTimeMs: number;
  readonly correlationId: string;
}

export type IngestPipeline = (request: WebhookRequest, invocation: IngestInvocation) => Promise<HttpResponse>;

interface TranslatedDelivery {
  readonly delivery: Delivery;
  readonly key: string;
  readonly envelopes: Envelope[];
}

export function createIngestPipeline(
  connector: ConnectorDefinition,
  deps: IngestDependencies,
): IngestPipeline {
  const { inbound } = connector;
  const secretNames = Object.keys(connector.secrets);
  const maxBodyBytes = inbound.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const source = `omnihub.${connector.id}`;
  const now = deps.now ?? (() => new Date());
  const { logger, metrics } = deps;

  const count = (name: string, value = 1) => metrics.addMetric(name, MetricUnit.Count, value);

  function reject(reason: string, correlationId: string): void {
    logger.info('webhook rejected', { reason, correlationId });
    const metric = metrics.singleMetric();
    metric.addDimension('reason', reason);
    metric.addMetric('WebhooksRejected', MetricUnit.Count, 1);
  }

  async function loadSecrets(): Promise<SecretValues> {
    const values = await deps.secrets.load(secretNames);
    const missing = secretNames.filter((name) => values[name] === undefined);
    if (missing.length > 0) throw new ConnectorNotConfiguredError(connector.id, missing);
    return values as SecretValues;
  }

  async function verify(request: WebhookRequest): Promise<void> {
    const secrets = await loadSecrets();
    try {
      inbound.verify(request, secrets, now());
    } catch (error) {
      // A rotated secret fails verification until the cache is refreshed: re-read once and try again.
      if (!(error instanceof SignatureError) || error.code === 'stale_timestamp' || !deps.secrets.refresh())
        throw error;
      inbound.verify(request, await loadSecrets(), now());
    }
  }

  function envelopeOf(
    eventDraft: CanonicalEventDraft,
    delivery: Delivery,
    index: number,
    request: WebhookRequest,
    correlationId: string,
  ): Envelope {
    if (!isEventType(eventDraft.type)) throw new TypeError(`unknown canonical event type ${eventDraft.type}`);
    const entry = catalog[eventDraft.type];
    const parsed = entry.data.safeParse(eventDraft.data);
    if (!parsed.success) {
      throw new TypeError(
        `${eventDraft.type} data does not match its schema: ${summarizeIssues(parsed.error.issues)}`,
      );
    }
    const occurred = new Date(eventDraft.occurredAt);
    if (Number.isNaN(occurred.getTime())) throw new TypeError(`invalid occurredAt for ${eventDraft.type}`);
    const occurredAt = occurred.toISOString();
    const firstExternal = eventDraft.identities.find((identity) => identity.type === 'external');
    const subject =
      eventDraft.subject ??
      (firstExternal?.type === 'external' ? `${firstExternal.system}:${firstExternal.value}` : undefined);
    return {
      id: deterministicEventId(connector.id, delivery.deliveryId, String(index), eventDraft.type),
      type: eventDraft.type,
      source,
      ...(subject !== undefined ? { subject } : {}),
      time: occurredAt,
      occurredAt,
      receivedAt: request.receivedAt.toISOString(),
      schemaVersion: entry.version,
      dataschema: dataSchemaUri(eventDraft.type),
      origin: { connector: connector.id, deliveryId: delivery.deliveryId, topic: delivery.topic },
      identities: eventDraft.identities,
      correlationId,
      data: parsed.data,
    };
  }

  function translate(
    request: WebhookRequest,
    deliveries: Delivery[],
    correlationId: string,
  ): TranslatedDelivery[] {
    const translated: TranslatedDelivery[] = [];
    const seen = new Set<string>();
    deliveries.forEach((delivery, position) => {
      const key = `${connector.id}:${delivery.deliveryId}`;
      if (seen.has(key)) {
        count('DuplicateDeliveries');
        return; // the same element twice in one batch
      }
      seen.add(key);
      const definition = Object.hasOwn(inbound.topics, delivery.topic)
        ? inbound.topics[delivery.topic]
        : undefined;
      if (!definition) {
        count('UntranslatedTopics');
        logger.info('topic not translated; acknowledged without publishing', {
          topic: delivery.topic,
          correlationId,
        });
        return;
      }
      const payload = definition.schema.safeParse(delivery.payload);
      if (!payload.success) {
        count('TranslationFailures');
        throw new ValidationError(
          `${deliveries.length > 1 ? `element ${position} ` : ''}(${delivery.topic}) does not match the expected payload: ${summarizeIssues(payload.error.issues)}`,
          'invalid_payload',
        );
      }
      let drafts: CanonicalEventDraft[];
      let envelopes: Envelope[];
      try {
        drafts = definition.translate(payload.data, {
          connector: connector.id,
          deliveryId: delivery.deliveryId,
          topic: delivery.topic,
          request,
        });
        envelopes = drafts.map((eventDraft, index) =>
          envelopeOf(eventDraft, delivery, index, request, correlationId),
        );
      } catch (error) {
        if (error instanceof ClientError) throw error;
        count('TranslationFailures');
        logger.warn('translation failed', {
          topic: delivery.topic,
          correlationId,
          error: error instanceof Error ? error.message : String(error),
        });
        throw new ValidationError(
          `(${delivery.topic}) could not be translated: ${error instanceof Error ? error.message : 'unknown error'}`,
          'untranslatable_payload',
        );
      }
      translated.push({ delivery, key, envelopes });
    });
    return translated;
  }

  async function publish(
    work: TranslatedDelivery[],
    invocation: IngestInvocation,
  ): Promise<{ duplicates: number; published: number }> {
    const withEvents = work.filter((item) => item.envelopes.length > 0);
    if (withEvents.length === 0) return { duplicates: 0, published: 0 };
    const reservations = await deps.ledger.reserve(
      withEvents.map((item) => item.key),
      invocation.remainingTimeMs,
    );
    const fresh = withEvents.filter((item) => reservations.get(item.key) === 'reserved');
    const duplicates = withEvents.filter((item) => reservations.get(item.key) === 'completed').length;
    const inProgress = withEvents.length - fresh.length - duplicates;
    if (duplicates > 0) count('DuplicateDeliveries', duplicates);

    const envelopes = fresh.flatMap((item) => item.envelopes);
    let failed: ReadonlySet<number> = new Set();
    try {
      failed = envelopes.length > 0 ? (await deps.publisher.publish(envelopes)).failed : failed;
    } catch (error) {
      await deps.ledger.release(fresh.map((item) => item.key));
      throw new RetryableError('the event bus did not accept the events', 503, 'bus_unavailable', {
        cause: error,
      });
    }
    // A delivery is done only when every one of its events is on the bus.
    const done: string[] = [];
    const undone: string[] = [];
    let offset = 0;
    for (const item of fresh) {
      const indexes = item.envelopes.map((_, index) => offset + index);
      offset += item.envelopes.length;
      (indexes.some((index) => failed.has(index)) ? undone : done).push(item.key);
    }
    await Promise.all([deps.ledger.complete(done), deps.ledger.release(undone)]);
    const published = envelopes.length - failed.size;
    count('EventsPublished', published);
    if (undone.length > 0) {
      throw new RetryableError(
        `${undone.length} deliveries could not be published; retry`,
        503,
        'bus_unavailable',
      );
    }
    if (inProgress > 0) {
      throw new ClientError(
        409,
        'delivery_in_progress',
        'the same delivery is being processed by another request; retry later',
        {
          'retry-after': '5',
        },
      );
    }
    return { duplicates, published };
  }

  return async function ingest(request, invocation) {
    count('WebhooksReceived');
    try {
      if (request.body.length > maxBodyBytes) {
        throw new ClientError(
          413,
          'payload_too_large',
          `body of ${request.body.length} bytes exceeds the limit of ${maxBodyBytes}`,
        );
      }
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      await verify(request);
      count('WebhooksVerified');
      if (!inbound.contentTypes.includes(mediaType)) {
        throw new ValidationError(
          `content type '${mediaType || '(none)'}' is not accepted; expected ${inbound.contentTypes.join(' or ')}`,
          'unsupported_content_type',
        );
      }
      const deliveries = inbound.parse(request);
      const work = translate(request, deliveries, invocation.correlationId);
      const { duplicates, published } = await publish(work, invocation);
      logger.info('webhook accepted', {
        deliveries: deliveries.length,
        published,
        duplicates,
        correlationId: invocation.correlationId,
      });
      return (
        inbound.acknowledge?.(request, deliveries) ?? {
          statusCode: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ received: deliveries.length, published, duplicates }),
        }
      );
    } catch (error) {
      if (error instanceof ClientError || error instanceof RetryableError)
        reject(error.code, invocation.correlationId);
      throw error;
    }
  };
}

function summarizeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
