/**
 * The deployment's settings that functions read from their environment: the phone region, the
 * timeline's and the raw archive's retention and the connector settings a caller passes through. Checked at synth time, so
 * a typo fails `cdk synth` instead of a function at run time.
 */
import { RAW_RETENTION_ENV } from '../../core/ingest/retention.ts';
import type { Topology } from '../topology.ts';
import type { IntegrationHubProps } from './props.ts';

/** A setting prop that cannot work (a malformed region, a variable the hub must own). */
export class HubSettingsError extends Error {
  override readonly name = 'HubSettingsError';
}

/** Prefixes of the variables the hub, Lambda or Powertools set: never the caller's to change. */
const RESERVED_PREFIXES = ['OMNIHUB_', 'AWS_', 'POWERTOOLS_', '_'];
const RESERVED_NAMES = new Set([
  'NODE_OPTIONS',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
  'LANG',
  'PATH',
]);
const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * The variables every hub function gets from the props; empty when none is given, so the defaults
 * stay in the code that reads them (`core/identity/identity.ts`, `functions/profile-writer.ts`).
 *
 * @throws HubSettingsError naming the prop and what it must be.
 * @example
 * functionEnvironmentOf({ defaultPhoneRegion: 'GB' }, topology); // { OMNIHUB_DEFAULT_REGION: 'GB' }
 */
export function functionEnvironmentOf(
  props: IntegrationHubProps,
  topology: Topology,
): Record<string, string> {
  const environment: Record<string, string> = {};
  if (props.defaultPhoneRegion !== undefined) {
    if (!/^[A-Z]{2}$/.test(props.defaultPhoneRegion)) {
      throw new HubSettingsError(
        `defaultPhoneRegion must be an ISO 3166-1 alpha-2 country code in capitals (e.g. 'GB'), got '${props.defaultPhoneRegion}'.`,
      );
    }
    environment.OMNIHUB_DEFAULT_REGION = props.defaultPhoneRegion;
  }
  if (props.timelineRetentionDays !== undefined) {
    const days = props.timelineRetentionDays;
    if (!Number.isInteger(days) || days < 1) {
      throw new HubSettingsError(
        `timelineRetentionDays must be a whole number of days, 1 or more, got ${days}.`,
      );
    }
    environment.OMNIHUB_TIMELINE_RETENTION_DAYS = String(days);
  }
  if (props.rawRetentionDays !== undefined) {
    const days = props.rawRetentionDays;
    if (!Number.isInteger(days) || days < 1) {
      throw new HubSettingsError(`rawRetentionDays must be a whole number of days, 1 or more, got ${days}.`);
    }
    environment[RAW_RETENTION_ENV] = String(days);
  }
  const secretNames = new Set(
    topology.ingest.flatMap((route) => [
      ...Object.keys(route.connector.secrets),
      ...Object.keys(route.connector.outbound?.secrets ?? {}),
    ]),
  );
  for (const [name, value] of Object.entries(props.functionEnvironment ?? {})) {
    if (!VARIABLE_NAME.test(name)) {
      throw new HubSettingsError(`functionEnvironment: '${name}' is not an environment variable name.`);
    }
    if (RESERVED_NAMES.has(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      throw new HubSettingsError(
        `functionEnvironment: ${name} is set by the hub, Lambda or Powertools; use the hub's props (defaultPhoneRegion, timelineRetentionDays, publicUrl, sync, ...) instead.`,
      );
    }
    if (secretNames.has(name)) {
      throw new HubSettingsError(
        `functionEnvironment: ${name} is a connector secret; put it in the connector's Secrets Manager secret, not in the template.`,
      );
    }
    environment[name] = value;
  }
  return environment;
}
