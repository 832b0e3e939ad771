/**
 * Drives a connector's ingest pipeline in-process: the real pipeline, an in-memory delivery ledger,
 * quarantine and raw archive, and a publisher that records what would have gone to the bus.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventPublisher, PublishResult } from '../../core/aws/publisher.ts';
import type { ConnectorDefinition, HttpResponse, WebhookRequest } from '../../core/connector.ts';
import type { Envelope } from '../../core/events/envelope.ts';
import { errorResponse } from '../../core/http.ts';
import { InMemoryDeliveryLedger } from '../../core/ingest/ledger.ts';
import { createIngestPipeline } from '../../core/ingest/pipeline.ts';
import { InMemoryQuarantine, type QuarantineItem } from '../../core/ingest/quarantine.ts';
import { InMemoryRawArchive } from '../../core/ingest/raw-archive.ts';
import { EnvironmentSecretSource } from '../../core/secrets.ts';

export class RecordingPublisher implements EventPublisher {
  readonly events: Envelope[] = [];
  async publish(envelopes: readonly Envelope[]): Promise<PublishResult> {
    this.events.push(...envelopes);
    return { published: new Set(envelopes.map((_, index) => index)), failed: new Set() };
  }
}

/** A webhook fixture: one request in the vendor's real format and what the hub must make of it. */
export interface WebhookFixture {
  readonly description: string;
  /** The clock during the test (signature timestamps are checked against it). */
  readonly now: string;
  /** Secret values by name, as the env/Secrets Manager would hold them. */
  readonly secrets: Record<string, string>;
  /** The base URL the vendor was configured to post to. @default https://hooks.example.com */
  readonly publicBaseUrl?: string;
  readonly request: {
    readonly method?: string;
    readonly path: string;
    readonly query?: string;
    readonly headers: Record<string, string>;
    /** The raw body exactly as the vendor sends it (use bodyBase64 for non-UTF-8 bytes). */
    readonly body?: string;
    readonly bodyBase64?: string;
  };
  readonly expect: {
    readonly status: number;
    /** For error answers: the `error` code of the JSON body. */
    readonly error?: string;
    /** The exact response body, when the vendor expects one (Twilio TwiML). */
    readonly body?: string;
    /** The canonical events published, in order (id, receivedAt and correlationId are not compared). */
    readonly events?: ReadonlyArray<Partial<Envelope>>;
    /**
     * The deliveries quarantined instead of published, in order: delivery id, topic, and a fragment of
     * the reason (which field, what was expected).
     */
    readonly quarantined?: ReadonlyArray<Pick<QuarantineItem, 'deliveryId' | 'topic' | 'reason'>>;
  };
}

export interface FixtureCase {
  readonly connector: string;
  readonly file: string;
  readonly fixture: WebhookFixture;
}

/** Every `connectors/<id>/fixtures/*.json`, for `describe.each`. */
export function loadFixtureCases(root = new URL('../../connectors/', import.meta.url)): FixtureCase[] {
  const cases: FixtureCase[] = [];
  for (const connector of readdirSync(root).sort()) {
    const dir = new URL(`${connector}/fixtures/`, root);
    let files: string[];
    try {
      if (!statSync(dir).isDirectory()) continue;
      files = readdirSync(dir)
        .filter((file) => file.endsWith('.json'))
        .sort();
    } catch {
      continue;
    }
    for (const file of files) {
      cases.push({
        connector,
        file,
        fixture: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as WebhookFixture,
      });
    }
  }
  return cases;
}

export function fixtureRequest(fixture: WebhookFixture): WebhookRequest {
  const { request } = fixture;
  const query = request.query ?? '';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  return {
    method: request.method ?? 'POST',
    path: request.path,
    rawQueryString: query,
    headers,
    body:
      request.bodyBase64 !== undefined
        ? Buffer.from(request.bodyBase64, 'base64')
        : Buffer.from(request.body ?? '', 'utf8'),
    publicUrl: `${fixture.publicBaseUrl ?? 'https://hooks.example.com'}${request.path}${query ? `?${query}` : ''}`,
    receivedAt: new Date(fixture.now),
  };
}

export interface PipelineHarness {
  readonly publisher: RecordingPublisher;
  readonly ledger: InMemoryDeliveryLedger;
  readonly quarantine: InMemoryQuarantine;
  readonly archive: InMemoryRawArchive;
  /** Runs one request; errors are mapped to responses exactly as the Lambda handler does. */
  send(request: WebhookRequest): Promise<HttpResponse>;
}

export function pipelineHarness(
  connector: ConnectorDefinition,
  options: { secrets: Record<string, string>; now: () => Date; publisher?: RecordingPublisher },
): PipelineHarness {
  const publisher = options.publisher ?? new RecordingPublisher();
  const ledger = new InMemoryDeliveryLedger();
  const quarantine = new InMemoryQuarantine();
  const archive = new InMemoryRawArchive();
  const pipeline = createIngestPipeline(connector, {
    secrets: new EnvironmentSecretSource(options.secrets),
    ledger,
    publisher,
    quarantine,
    archive,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'OmnihubTest' }),
    now: options.now,
  });
  return {
    publisher,
    ledger,
    quarantine,
    archive,
    async send(request) {
      try {
        return await pipeline(request, { remainingTimeMs: 10_000, correlationId: 'test-correlation' });
      } catch (error) {
        return errorResponse(error);
      }
    },
  };
}

/** The comparable part of a published envelope (id, receivedAt and correlationId are generated). */
export function comparable(envelope: Envelope): Partial<Envelope> {
  const {
    id: _id,
    correlationId: _correlation,
    receivedAt: _received,
    dataschema: _schema,
    time: _time,
    ...rest
  } = envelope;
  return rest;
}
