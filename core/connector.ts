/**
 * The connector contract: what a folder under `connectors/<id>/` exports as its `index.ts` default.
 *
 * A connector is data plus a few pure functions. The ingest pipeline (`core/ingest/`) does the rest:
 * size and content-type checks, secret resolution, signature check (via `verify`), parsing (via
 * `parse`), schema validation and translation (via `topics`), idempotency and publishing.
 */
import type * as z from 'zod/mini';
import type { EventData, EventType } from './events/catalog.ts';
import type { Identity } from './identity/identity.ts';
import type { OutboundDefinition } from './sync/destination.ts';

export type ConnectorCategory = 'ecommerce' | 'crm' | 'pos' | 'email' | 'sms';

/** A webhook request as the pipeline sees it: raw bytes, lower-cased headers, the public URL. */
export interface WebhookRequest {
  readonly method: string;
  /** Request path, e.g. `/webhooks/shopify`. */
  readonly path: string;
  /** Raw query string without the leading `?` (empty when none), byte for byte as received. */
  readonly rawQueryString: string;
  /** Header names lower-cased; repeated headers joined with `,` as API Gateway does. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received. Signatures are computed over these bytes, never over parsed JSON. */
  readonly body: Buffer;
  /**
   * The URL the vendor posted to, as the vendor knows it: `OMNIHUB_PUBLIC_URL + /webhooks/<id>` plus
   * `?` and the raw query string when there is one. URL-signed schemes (Twilio, Square, HubSpot v2/v3)
   * sign this.
   */
  readonly publicUrl: string;
  readonly receivedAt: Date;
}

/** Secret values by name (the name is also the env var and the key in the Secrets Manager secret). */
export type SecretValues<K extends string = string> = Readonly<Record<K, string>>;

/** One unit of work in a delivery: a single webhook, or one element of a batch (HubSpot, SendGrid). */
export interface Delivery {
  /** The vendor's id for this unit, unique within the connector: the idempotency key. */
  readonly deliveryId: string;
  /** The vendor topic / event name that selects the translator. */
  readonly topic: string;
  /** The parsed payload of this unit (validated later against the topic's schema). */
  readonly payload: unknown;
  /**
   * Set by a batch parser on an element it cannot read as a delivery (its id or topic is missing or
   * malformed): what is wrong, naming the field and never quoting its value. The pipeline
   * quarantines such an element instead of translating it, and its siblings go on. Build one with
   * `unreadableElement` (`core/ingest/quarantine.ts`).
   */
  readonly unreadable?: string;
}

/** What a translator returns: the pipeline fills in id, source, times, origin, version, correlation. */
export interface CanonicalEventDraft<T extends EventType = EventType> {
  readonly type: T;
  /** When it happened by the vendor's clock (ISO 8601 with offset). */
  readonly occurredAt: string;
  readonly identities: Identity[];
  /** e.g. `shopify:706405506930370084`; defaults to the first external identity. */
  readonly subject?: string;
  readonly data: EventData<T>;
}

/** Typed constructor for drafts, so `data` is checked against the catalog at compile time. */
export function draft<T extends EventType>(
  type: T,
  fields: Omit<CanonicalEventDraft<T>, 'type'>,
): CanonicalEventDraft<T> {
  return { type, ...fields };
}

export interface TranslateContext {
  readonly connector: string;
  readonly deliveryId: string;
  readonly topic: string;
  readonly request: WebhookRequest;
}

/** A vendor topic: the zod schema of its payload and the translator to canonical events. */
export interface TopicDefinition<S extends z.ZodMiniType = z.ZodMiniType> {
  readonly schema: S;
  readonly translate: (payload: z.infer<S>, context: TranslateContext) => CanonicalEventDraft[];
}

/** Pairs a schema with its translator so the translator's payload type is inferred. */
export function topic<S extends z.ZodMiniType>(
  schema: S,
  translate: (payload: z.infer<S>, context: TranslateContext) => CanonicalEventDraft[],
): TopicDefinition<S> {
  return { schema, translate };
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface InboundDefinition<K extends string = string> {
  /** Media types accepted (lower case, without parameters), e.g. `application/json`. */
  readonly contentTypes: readonly string[];
  /** Largest body accepted, in bytes (413 above). @default 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * Checks the signature over the raw bytes; throws `SignatureError` (401) when missing, wrong or stale.
   * Must use a constant-time comparison.
   */
  verify(request: WebhookRequest, secrets: SecretValues<K>, now: Date): void;
  /**
   * Splits a verified body into deliveries; throws `ValidationError` (400) only when the body itself
   * cannot be read (not JSON, not the expected shape). A batch element that cannot be read comes back
   * as a delivery with `unreadable` set, so that one bad element never takes its siblings down.
   */
  parse(request: WebhookRequest): Delivery[];
  /**
   * Topic -> schema + translator. Topics not listed are acknowledged, counted and not published. A
   * delivery that fails its schema or its translator is quarantined (kept with the reason, answered
   * 2xx), never refused: the vendor did its part once the signature verified.
   */
  readonly topics: Readonly<Record<string, TopicDefinition>>;
  /** The success response, when the vendor expects a specific body (Twilio: TwiML). @default 200 JSON */
  acknowledge?(request: WebhookRequest, deliveries: readonly Delivery[]): HttpResponse;
}

export interface ConnectorDefinition<K extends string = string> {
  /** Lower-case id: route `/webhooks/<id>`, event source `omnihub.<id>`, external ids `<id>:<vendor id>`. */
  readonly id: string;
  readonly name: string;
  readonly category: ConnectorCategory;
  /** Secrets by name, with what each is; the name is the env var locally and the key in Secrets Manager. */
  readonly secrets: Readonly<Record<K, string>>;
  readonly inbound: InboundDefinition<K>;
  /**
   * How the system receives the unified profile (fan-out sync, `core/sync/`). Absent when the system
   * has no customer record to keep in step (Twilio).
   */
  readonly outbound?: OutboundDefinition;
}

/** Identity function that fixes the generic parameters; every connector's `index.ts` uses it. */
export function defineConnector<K extends string>(
  definition: ConnectorDefinition<K>,
): ConnectorDefinition<K> {
  return definition;
}
