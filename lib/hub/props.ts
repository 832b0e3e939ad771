/**
 * The props of {@link IntegrationHub} and the option types they use: everything a caller can decide.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { SyncConfigInput } from '../../core/sync/config.ts';
import type { AnalyticsProps } from '../analytics.ts';
import type { Topology } from '../topology.ts';

/**
 * Throttling for the webhook stage.
 *
 * @example
 * const throttle: WebhookThrottle = { rateLimit: 50, burstLimit: 100 };
 */
export interface WebhookThrottle {
  /**
   * Steady-state requests per second across all webhook routes.
   * @default 100
   */
  readonly rateLimit?: number;
  /**
   * Requests allowed in a burst above the steady rate.
   * @default 200
   */
  readonly burstLimit?: number;
}

/**
 * How EventBridge retries delivering a matched event to a consumer's queue.
 *
 * @example
 * const retry: DeliveryRetry = { maxEventAge: Duration.hours(6), retryAttempts: 50 };
 */
export interface DeliveryRetry {
  /**
   * Age after which EventBridge gives up and sends the event to the rule target's dead-letter queue.
   * @default Duration.hours(24) (EventBridge's maximum)
   */
  readonly maxEventAge?: Duration;
  /**
   * Delivery attempts before the event goes to the rule target's dead-letter queue.
   * @default 185 (EventBridge's maximum)
   */
  readonly retryAttempts?: number;
}

/**
 * Properties of {@link IntegrationHub}.
 *
 * @example
 * const props: IntegrationHubProps = {
 *   stage: 'prod',
 *   removalPolicy: RemovalPolicy.RETAIN,
 *   webhookThrottle: { rateLimit: 50 },
 *   publicUrl: 'https://hooks.example.com',
 * };
 */
export interface IntegrationHubProps {
  /**
   * The tables, routes, rules, queues and functions to build. Give either this or `sync`: a topology
   * of your own carries its sync configuration already (`createTopology({ sync })`).
   * @default createTopology({ sync }): the repository's topology (lib/topology.ts)
   */
  readonly topology?: Topology;
  /**
   * Fan-out sync configuration (docs/sync.md): which profile events reach which destination, the
   * fields each receives, which system owns which field, rate limits and delivery retries. Validated
   * at synth time and passed to the sync functions as `OMNIHUB_SYNC_CONFIG`.
   * @default the defaults of core/sync/config.ts (every destination on, every field it can take,
   *   `company` owned by HubSpot, revenue in USD)
   */
  readonly sync?: SyncConfigInput;
  /**
   * Deployment stage; suffixes the bus name so stages can share an account.
   * @default - no suffix: the bus is named `topology.bus.name`
   */
  readonly stage?: string;
  /**
   * Days the bus archive keeps events (for replay).
   * @default topology.bus.archiveRetentionDays
   */
  readonly archiveRetentionDays?: number;
  /**
   * Days every verified webhook is kept as received (the raw archive bucket's lifecycle) and a
   * quarantined delivery is kept in the quarantine (`OMNIHUB_RAW_RETENTION_DAYS` of every function),
   * for `omnihub retranslate`. The deliveries carry personal data: erasure reaches them only when
   * they expire.
   * @default 30
   */
  readonly rawRetentionDays?: number;
  /**
   * What happens to stateful resources (key, tables, secrets, log groups, dead-letter queues) when
   * they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Stage-wide throttling of the webhook routes; fields not given keep their defaults.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly webhookThrottle?: WebhookThrottle;
  /**
   * Public base URL vendors post to (for example a custom domain), without a trailing slash. URL-signed
   * schemes (Twilio, Square) sign `publicUrl + /webhooks/<id>`, so it must be what the vendor sees.
   * @default the HTTP API's execute-api endpoint
   */
  readonly publicUrl?: string;
  /**
   * Retention of every function's and the API's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Retry policy of every bus rule's target; fields not given keep their defaults.
   * @default { maxEventAge: Duration.hours(24), retryAttempts: 185 }
   */
  readonly deliveryRetry?: DeliveryRetry;
  /**
   * Connector ids whose webhook routes are built (see `connectors/index.ts`).
   * @default every connector of the topology
   */
  readonly connectors?: readonly string[];
  /**
   * Sync destinations (connector ids) kept in step with the profile (docs/sync.md).
   * @default every destination of the topology
   */
  readonly destinations?: readonly string[];
  /**
   * Where alarms notify (DLQ depth, API 5xx, rule FailedInvocations, function errors and throttles).
   * @default a new topic encrypted with the hub key; subscribe to it
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Serve the HTTP API on your own domain; vendors then post to `https://<domainName>/webhooks/<id>`.
   * @default the execute-api endpoint
   */
  readonly customDomain?: CustomDomain;
  /**
   * Events to S3, profile snapshots, Glue tables and an Athena workgroup (docs/analytics.md);
   * `false` leaves them out.
   * @default analytics with its defaults
   */
  readonly analytics?: false | HubAnalyticsOptions;
  /**
   * Map every function's stack traces to the TypeScript sources (`NODE_OPTIONS=--enable-source-maps`).
   * Costs 5–15 ms of cold start per function (BENCHMARKS.md); the maps ship either way.
   * @default false
   */
  readonly sourceMaps?: boolean;
  /**
   * The country whose numbering plan applies to phone numbers written without a country code, as an
   * ISO 3166-1 alpha-2 code (`OMNIHUB_DEFAULT_REGION` of every function).
   * @default 'US'
   */
  readonly defaultPhoneRegion?: string;
  /**
   * Days a profile's timeline entries are kept (DynamoDB TTL; `OMNIHUB_TIMELINE_RETENTION_DAYS`).
   * @default 365
   */
  readonly timelineRetentionDays?: number;
  /**
   * Further environment variables of every hub function, for the settings a connector reads from its
   * environment (`SENDGRID_SIGNATURE_MAX_AGE_SECONDS`, a vendor API's base URL such as
   * `HUBSPOT_API_URL` for a sandbox account). Refused: the names the hub sets itself (`OMNIHUB_*`,
   * `AWS_*`, `POWERTOOLS_*`, `NODE_OPTIONS`: use the props above) and connector secrets, which belong
   * in the connector's Secrets Manager secret, never in a template.
   * @default none
   * @example
   * { SENDGRID_SIGNATURE_MAX_AGE_SECONDS: '86400' }
   */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
}

/**
 * A custom domain for the hub's HTTP API.
 *
 * @example
 * const customDomain: CustomDomain = { domainName: 'hooks.example.com', certificate };
 */
export interface CustomDomain {
  readonly domainName: string;
  /** An ACM certificate for `domainName` in the stack's region. */
  readonly certificate: acm.ICertificate;
}

/** Analytics settings the hub does not decide itself (it passes its bus, table, key and stage). */
export type HubAnalyticsOptions = Omit<
  AnalyticsProps,
  'bus' | 'profileTable' | 'key' | 'stage' | 'removalPolicy' | 'logRetention'
>;
