/**
 * Fan-out sync configuration: which canonical events reach which destination, which profile fields
 * each destination receives, which system owns which field, and the delivery knobs.
 *
 * Defaults ship here. The `IntegrationHub` construct takes overrides as its `sync` prop and passes the
 * resolved configuration to the sync functions as `OMNIHUB_SYNC_CONFIG` (JSON), which is all a function
 * reads. Files are only how the repository's own entry points fill that prop: the CDK app
 * (`bin/app.ts`) and the local hub (`local/main.ts`) read `omnihub.sync.json` (or the path in
 * `OMNIHUB_SYNC_CONFIG_FILE`) with {@link readSyncConfig}.
 *
 * @example
 * // Square gets no addresses, HubSpot owns company and names (the same JSON in omnihub.sync.json)
 * new IntegrationHub(stack, 'Hub', {
 *   sync: {
 *     destinations: { square: { fields: ['firstName', 'lastName', 'email', 'phone'] } },
 *     owners: { company: 'hubspot', firstName: 'hubspot', lastName: 'hubspot' },
 *   },
 * });
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod/mini';
import '../zod-messages.ts';
import {
  MAX_VISIBILITY_SECONDS,
  maxReceiveCountFor,
  type RedeliveryPolicy,
  SQS_MAX_RECEIVE_COUNT,
} from './redelivery.ts';

/** The profile fields a destination can receive. Consent opt-outs are not fields: they always propagate. */
export const SYNC_FIELDS = [
  'firstName',
  'lastName',
  'email',
  'phone',
  'company',
  'address',
  'locale',
  'orderCount',
  'totalRevenue',
  'lastOrderAt',
  'emailConsent',
  'smsConsent',
] as const;
export const SyncField = z.enum(SYNC_FIELDS);
export type SyncField = z.infer<typeof SyncField>;

/** Canonical events a sync consumer can take. */
export const SyncEventType = z.enum(['profile.updated', 'profile.merged']);
export type SyncEventType = z.infer<typeof SyncEventType>;

export const DestinationConfig = z.strictObject({
  /** Off: no queue traffic is delivered (the consumer still exists). */
  enabled: z._default(z.boolean(), true),
  events: z._default(z.array(SyncEventType), ['profile.updated', 'profile.merged']),
  /** Fields sent; by default everything the destination can take (its `capabilities`). */
  fields: z.optional(z.array(SyncField)),
  /** Fields owned by another system that this destination receives anyway. */
  overwrite: z._default(z.array(SyncField), []),
  /** Requests per window, and the window; by default the destination's documented limit. */
  rateLimit: z.optional(
    z.object({
      requests: z.number().check(z.int(), z.positive()),
      perSeconds: z.number().check(z.positive()),
    }),
  ),
  /** Destination-specific options (e.g. SendGrid `listIds`). */
  options: z._default(z.record(z.string(), z.unknown()), {}),
});
export type DestinationConfig = z.infer<typeof DestinationConfig>;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration in whole seconds, minutes, hours or days: `30s`, `15m`, `24h`, `7d`. */
export const Duration = z
  .string()
  .check(z.regex(DURATION, 'expected a duration such as "30s", "15m", "24h" or "7d"'));

/** Milliseconds of a {@link Duration}. */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new SyncConfigError(`${duration} is not a duration such as "30s", "15m", "24h" or "7d"`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The longest `retryFor`: the sync queues keep a message a day longer, and SQS keeps one 14 days at most. */
const MAX_RETRY_FOR_MS = 7 * 86_400_000;

interface DeliverySettings {
  readonly retryFor: string;
  readonly redeliveryDelay: { readonly first: string; readonly max: string };
}

/** When and how often a failing change comes back through its queue (core/sync/redelivery.ts). */
export function redeliveryPolicyOf(delivery: DeliverySettings): RedeliveryPolicy {
  return {
    retryForMs: durationMs(delivery.retryFor),
    firstDelayMs: durationMs(delivery.redeliveryDelay.first),
    maxDelayMs: durationMs(delivery.redeliveryDelay.max),
  };
}

/** What is wrong with the redelivery settings, if anything: the path below `delivery` and why. */
function redeliveryProblem(delivery: DeliverySettings): [path: string[], message: string] | undefined {
  const { retryFor, redeliveryDelay } = delivery;
  // A malformed duration has its own issue already.
  if (![retryFor, redeliveryDelay.first, redeliveryDelay.max].every((text) => DURATION.test(text)))
    return undefined;
  const policy = redeliveryPolicyOf(delivery);
  const { first, max } = delivery.redeliveryDelay;
  if (policy.retryForMs > MAX_RETRY_FOR_MS) return [['retryFor'], 'must be at most 7d'];
  if (policy.firstDelayMs < 1_000) return [['redeliveryDelay', 'first'], 'must be at least 1s'];
  if (policy.maxDelayMs < policy.firstDelayMs)
    return [['redeliveryDelay', 'max'], `must be at least redeliveryDelay.first (${first})`];
  if (policy.maxDelayMs > MAX_VISIBILITY_SECONDS * 1_000)
    return [['redeliveryDelay', 'max'], 'must be at most 12h (the longest SQS visibility timeout)'];
  const receives = maxReceiveCountFor(policy);
  if (receives > SQS_MAX_RECEIVE_COUNT)
    return [
      ['redeliveryDelay', 'max'],
      `${max} is too short for retryFor ${delivery.retryFor}: a change could be received ${receives} times, and SQS redrives after ${SQS_MAX_RECEIVE_COUNT} at most; raise it or shorten retryFor`,
    ];
  return undefined;
}

const checkRedelivery = z.superRefine<DeliverySettings>((delivery, context) => {
  const problem = redeliveryProblem(delivery);
  if (problem) context.addIssue({ code: 'custom', path: problem[0], message: problem[1], input: delivery });
});

export const SyncConfig = z.strictObject({
  destinations: z._default(z.record(z.string(), z.partial(DestinationConfig)), {}),
  /**
   * Field -> the system of record for it. Its value flows only from the owner: the owner is never
   * sent it, and other destinations get it only when the profile's value came from the owner
   * (unless a destination lists the field in `overwrite`).
   */
  owners: z._default(z.partialRecord(SyncField, z.string()), { company: 'hubspot' }),
  /** Currency of revenue fields (HubSpot `total_revenue`); other currencies are not summed in. */
  reportingCurrency: z._default(z.string().check(z.length(3)), 'USD'),
  delivery: z.prefault(
    z
      .strictObject({
        /** HTTP attempts per request within one invocation, the first included. */
        maxAttempts: z._default(z.number().check(z.int(), z.positive()), 5),
        /** Base of the exponential backoff (full jitter). */
        baseDelayMs: z._default(z.number().check(z.nonnegative()), 250),
        /** Longest single backoff. */
        maxDelayMs: z._default(z.number().check(z.nonnegative()), 8_000),
        /**
         * Longest wait spent in-process (Retry-After, rate-limit resets); a longer wait hands the
         * message back to the queue with that visibility timeout instead.
         */
        maxInProcessWaitMs: z._default(z.number().check(z.nonnegative()), 10_000),
        /** Per-request timeout. */
        timeoutMs: z._default(z.number().check(z.positive()), 10_000),
        /**
         * How long a change that keeps failing for a reason that may pass (408, 429, 5xx, network
         * errors) is tried again, counted from its first attempt; then it goes to the DLQ.
         */
        retryFor: z._default(Duration, '24h'),
        /**
         * The wait between two tries of such a change, carried by its queue (the message's visibility
         * timeout): drawn between half and all of a ceiling that doubles from `first` up to `max`.
         */
        redeliveryDelay: z.prefault(
          z.strictObject({
            first: z._default(Duration, '30s'),
            max: z._default(Duration, '15m'),
          }),
          {},
        ),
      })
      .check(checkRedelivery),
    {},
  ),
});
export type SyncConfig = z.infer<typeof SyncConfig>;
/** Overrides of the sync configuration: every field optional, the defaults fill the rest. */
export type SyncConfigInput = z.input<typeof SyncConfig>;

export const SYNC_CONFIG_ENV = 'OMNIHUB_SYNC_CONFIG';
export const SYNC_CONFIG_FILE_ENV = 'OMNIHUB_SYNC_CONFIG_FILE';
const DEFAULT_FILE = 'omnihub.sync.json';

/** The configuration error, naming the source and the offending path. */
export class SyncConfigError extends Error {
  override readonly name = 'SyncConfigError';
}

/**
 * Validates overrides and applies the defaults.
 *
 * @param source names where the overrides came from in the error (a file, a variable, a prop).
 * @throws SyncConfigError naming the source and the first offending path.
 */
export function resolveSyncConfig(input: unknown, source: string): SyncConfig {
  const parsed = SyncConfig.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncConfigError(
      `${source}: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Parses and validates overrides (JSON text), applying the defaults. */
export function parseSyncConfig(text: string, source: string): SyncConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SyncConfigError(`${source} is not valid JSON`);
  }
  return resolveSyncConfig(raw, source);
}

/**
 * What a sync function runs with: `OMNIHUB_SYNC_CONFIG` (JSON, set by the stack, or by the local hub),
 * else the defaults. Never reads a file.
 */
export function loadSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const inline = env[SYNC_CONFIG_ENV];
  return inline ? parseSyncConfig(inline, SYNC_CONFIG_ENV) : SyncConfig.parse({});
}

/**
 * The configuration an entry point (the repository's CDK app, the local hub) gives the hub:
 * `OMNIHUB_SYNC_CONFIG` (JSON), else the file named by `OMNIHUB_SYNC_CONFIG_FILE` (relative to `cwd`),
 * else `omnihub.sync.json` in `cwd` when present, else the defaults. It reads the file system when
 * called, so only entry points call it; the construct takes the result as its `sync` prop.
 *
 * @example
 * new IntegrationHub(stack, 'Hub', { sync: readSyncConfig(process.cwd()) });
 */
export function readSyncConfig(cwd: string, env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const inline = env[SYNC_CONFIG_ENV];
  if (inline) return parseSyncConfig(inline, SYNC_CONFIG_ENV);
  const named = env[SYNC_CONFIG_FILE_ENV];
  const file = named ? resolve(cwd, named) : resolve(cwd, DEFAULT_FILE);
  if (named && !existsSync(file))
    throw new SyncConfigError(`${SYNC_CONFIG_FILE_ENV}: ${file} does not exist`);
  if (existsSync(file)) return parseSyncConfig(readFileSync(file, 'utf8'), file);
  return SyncConfig.parse({});
}

/** One destination's settings, with the destination's own defaults filled in. */
export interface ResolvedDestination {
  readonly id: string;
  readonly enabled: boolean;
  readonly events: readonly SyncEventType[];
  readonly fields: ReadonlySet<SyncField>;
  readonly overwrite: ReadonlySet<SyncField>;
  readonly rateLimit: { readonly requests: number; readonly perSeconds: number };
  readonly options: Readonly<Record<string, unknown>>;
}

export function resolveDestination(
  config: SyncConfig,
  id: string,
  defaults: {
    readonly capabilities: readonly SyncField[];
    readonly rateLimit: { readonly requests: number; readonly perSeconds: number };
  },
): ResolvedDestination {
  const own = DestinationConfig.parse(config.destinations[id] ?? {});
  const unsupported = (own.fields ?? []).filter((field) => !defaults.capabilities.includes(field));
  if (unsupported.length > 0) {
    throw new SyncConfigError(`destinations.${id}.fields: ${unsupported.join(', ')} cannot be sent to ${id}`);
  }
  return {
    id,
    enabled: own.enabled,
    events: own.events,
    fields: new Set(own.fields ?? defaults.capabilities),
    overwrite: new Set(own.overwrite),
    rateLimit: own.rateLimit ?? defaults.rateLimit,
    options: own.options,
  };
}
