/**
 * The inbound path every connector shares: configured? -> size -> verify (raw bytes) -> content type
 * -> parse -> per delivery: validate + translate, or quarantine -> dedupe (per delivery) -> publish and
 * quarantine, together -> acknowledge.
 *
 * Acknowledged (2xx) only when the request is durable somewhere it can be translated from again: the
 * raw archive (every verified request, as received, whatever becomes of it), and per delivery its
 * events on the bus or its quarantine item. The three are written in parallel and all awaited; if
 * any fails the answer is 503 and the vendor retries (the ledger makes the retry publish nothing
 * twice). Refused only for what the sender must fix: 413 over the
 * size limit, 401 for the signature, 400 for a content type or body that cannot be read. A delivery
 * that fails its schema or translator is quarantined and answered 2xx, and in a batch its siblings
 * are published (`translate.ts`).
 *
 * It knows nothing about Lambda or HTTP servers: it takes a {@link WebhookRequest} and returns an
 * {@link HttpResponse}, with its collaborators passed in, so tests and benchmarks drive it directly.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { EventPublisher } from '../aws/publisher.ts';
import type { ConnectorDefinition, HttpResponse, SecretValues, WebhookRequest } from '../connector.ts';
import { ClientError, ConnectorNotConfiguredError, RetryableError, SignatureError } from '../errors.ts';
import { publishedDigest } from '../events/event-id.ts';
import type { SecretSource } from '../secrets.ts';
import type { DeliveryLedger } from './ledger.ts';
import type { QuarantineRecord, QuarantineStore } from './quarantine.ts';
import type { RawArchive } from './raw-archive.ts';
import { type DeliveryOutcome, translateRequest } from './translate.ts';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface IngestDependencies {
  readonly secrets: SecretSource;
  readonly ledger: DeliveryLedger;
  readonly publisher: EventPublisher;
  /** Where deliveries that fail their schema or translator are kept. */
  readonly quarantine: QuarantineStore;
  /** Where every verified request is kept as received. */
  readonly archive: RawArchive;
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

type Translated = Extract<DeliveryOutcome, { kind: 'translated' }>;

export function createIngestPipeline(
  connector: ConnectorDefinition,
  deps: IngestDependencies,
): IngestPipeline {
  const { inbound } = connector;
  const secretNames = Object.keys(connector.secrets);
  const maxBodyBytes = inbound.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
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

  /** Counts and logs what is not published: untranslated topics, repeats, quarantined deliveries. */
  function report(outcomes: readonly DeliveryOutcome[], correlationId: string): void {
    for (const outcome of outcomes) {
      if (outcome.kind === 'repeated') count('DuplicateDeliveries');
      else if (outcome.kind === 'untranslated') {
        count('UntranslatedTopics');
        logger.info('topic not translated; acknowledged without publishing', {
          topic: outcome.delivery.topic,
          correlationId,
        });
      } else if (outcome.kind === 'quarantined') {
        const { deliveryId, topic, reason } = outcome.record;
        logger.warn('delivery quarantined', { deliveryId, topic, reason, correlationId });
      }
    }
  }

  async function quarantine(records: readonly QuarantineRecord[]): Promise<void> {
    if (records.length === 0) return;
    let added: number;
    try {
      added = await deps.quarantine.keep(records);
    } catch (error) {
      throw new RetryableError('the quarantine did not take the deliveries', 503, 'quarantine_unavailable', {
        cause: error,
      });
    }
    if (added > 0) count('DeliveriesQuarantined', added);
  }

  async function keepRaw(request: WebhookRequest, requestId: string): Promise<void> {
    try {
      await deps.archive.keep(connector.id, request, requestId);
    } catch (error) {
      throw new RetryableError('the raw archive did not take the delivery', 503, 'raw_archive_unavailable', {
        cause: error,
      });
    }
  }

  async function publish(
    work: readonly Translated[],
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
    const digests = new Map<string, string>();
    let offset = 0;
    for (const item of fresh) {
      const indexes = item.envelopes.map((_, index) => offset + index);
      offset += item.envelopes.length;
      (indexes.some((index) => failed.has(index)) ? undone : done).push(item.key);
      digests.set(item.key, publishedDigest(item.envelopes.map((envelope) => envelope.id)));
    }
    await Promise.all([deps.ledger.complete(done, digests), deps.ledger.release(undone)]);
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
    const { correlationId } = invocation;
    try {
      if (request.body.length > maxBodyBytes) {
        throw new ClientError(
          413,
          'payload_too_large',
          `body of ${request.body.length} bytes exceeds the limit of ${maxBodyBytes}`,
        );
      }
      await verify(request);
      count('WebhooksVerified');
      // From here on the request is kept as received, whatever becomes of it, and never answered
      // before that is durable: not even a 400 (a fixed parser may read it later).
      const archived = keepRaw(request, correlationId);
      archived.catch(() => undefined); // awaited below on every path; never an unhandled rejection
      let outcomes: DeliveryOutcome[];
      try {
        outcomes = translateRequest(connector, request, { correlationId, requestId: correlationId });
      } catch (error) {
        await archived;
        throw error;
      }
      report(outcomes, correlationId);
      const translated = outcomes.filter((outcome): outcome is Translated => outcome.kind === 'translated');
      const records = outcomes.flatMap((outcome) => (outcome.kind === 'quarantined' ? [outcome.record] : []));
      // All settle before the answer: a failure of one must not cut the others short.
      const [published, quarantined, kept] = await Promise.allSettled([
        publish(translated, invocation),
        quarantine(records),
        archived,
      ]);
      if (published.status === 'rejected') throw published.reason;
      if (quarantined.status === 'rejected') throw quarantined.reason;
      if (kept.status === 'rejected') throw kept.reason;
      const { duplicates } = published.value;
      logger.info('webhook accepted', {
        deliveries: outcomes.length,
        published: published.value.published,
        duplicates,
        quarantined: records.length,
        correlationId,
      });
      return (
        inbound.acknowledge?.(
          request,
          outcomes.map((outcome) => outcome.delivery),
        ) ?? {
          statusCode: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            received: outcomes.length,
            published: published.value.published,
            duplicates,
            quarantined: records.length,
          }),
        }
      );
    } catch (error) {
      if (error instanceof ClientError || error instanceof RetryableError) reject(error.code, correlationId);
      throw error;
    }
  };
}
