/**
 * The CDK app (`cdk.json` runs it with tsx): one `Omnihub-<stage>` stack, checked by cdk-nag.
 *
 * Where settings come from, first match wins:
 * - stage: context `omnihub:stage` (`cdk.json` sets `dev`; `cdk synth -c omnihub:stage=prod`), else `dev`.
 * - account: context `omnihub:account`, else `CDK_DEFAULT_ACCOUNT` (set by the CDK CLI from your
 *   credentials), else the placeholder `123456789012`.
 * - region: context `omnihub:region`, else `CDK_DEFAULT_REGION`, else `us-east-1`.
 * - `omnihub:connectors`, `omnihub:destinations`: comma-separated ids to build (default: all).
 * - `omnihub:alarmTopicArn`: an existing SNS topic for alarms (default: the hub creates one).
 * - `omnihub:domainName` + `omnihub:certificateArn`: serve the API on your domain.
 * - `omnihub:analytics`: `false` leaves out the Firehose/Glue/Athena analytics.
 * - `omnihub:sourceMaps`: `true` maps stack traces to the sources (5–15 ms more cold start).
 * - `omnihub:defaultPhoneRegion`, `omnihub:timelineRetentionDays`, `omnihub:rawRetentionDays`: the hub
 *   props of those names.
 * - the hub's `sync` prop (docs/sync.md): `OMNIHUB_SYNC_CONFIG` (JSON), else the file in
 *   `OMNIHUB_SYNC_CONFIG_FILE`, else `omnihub.sync.json` in the directory `cdk` runs in, else the defaults.
 *
 * The placeholders exist so that `cdk synth` works offline with no credentials at all. A stack synthesized
 * with a placeholder carries a warning, and deploying it fails at the CLI's account check rather than
 * landing somewhere unintended.
 *
 * Any unacknowledged AwsSolutions finding, error or warning, fails the synth: fix it, or acknowledge it
 * on the specific resource with `Validations.of(resource).acknowledge({ id, reason })` and a real reason.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Annotations, App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSyncConfig } from '../core/sync/config.ts';
import type { IntegrationHubProps } from '../lib/integration-hub.ts';
import { OmnihubStack } from '../lib/stack.ts';

export const PLACEHOLDER_ACCOUNT = '123456789012';
export const PLACEHOLDER_REGION = 'us-east-1';

export interface OmnihubAppOptions extends AppProps {
  /**
   * Hub props other than the stage (tests pass a small topology here).
   * @default the hub's defaults
   */
  readonly hub?: Omit<IntegrationHubProps, 'stage'>;
  /**
   * Environment variables to read `CDK_DEFAULT_ACCOUNT` / `CDK_DEFAULT_REGION` from.
   * @default process.env
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/**
 * Builds the app the CLI synthesizes; exported so tests exercise the same wiring.
 *
 * @example
 * const { app, stack } = createApp({ context: { 'omnihub:stage': 'qa' } });
 */
export function createApp(options: OmnihubAppOptions = {}): { app: App; stack: OmnihubStack } {
  const { hub, environment = process.env, ...appProps } = options;
  const app = new App(appProps);
  const stage = contextString(app, 'omnihub:stage') ?? 'dev';
  const account = contextString(app, 'omnihub:account') ?? environment.CDK_DEFAULT_ACCOUNT;
  const region = contextString(app, 'omnihub:region') ?? environment.CDK_DEFAULT_REGION;

  const connectors = contextList(app, 'omnihub:connectors');
  const destinations = contextList(app, 'omnihub:destinations');
  const alarmTopicArn = contextString(app, 'omnihub:alarmTopicArn');
  const defaultPhoneRegion = contextString(app, 'omnihub:defaultPhoneRegion');
  const timelineRetentionDays = contextString(app, 'omnihub:timelineRetentionDays');
  const rawRetentionDays = contextString(app, 'omnihub:rawRetentionDays');
  const domainName = contextString(app, 'omnihub:domainName');
  const certificateArn = contextString(app, 'omnihub:certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new Error('omnihub:domainName and omnihub:certificateArn go together: give both or neither');
  }
  const stack = new OmnihubStack(app, `Omnihub-${stage}`, {
    description: `Omnihub integration hub (${stage}).`,
    env: { account: account ?? PLACEHOLDER_ACCOUNT, region: region ?? PLACEHOLDER_REGION },
    hub: {
      ...(connectors ? { connectors } : {}),
      ...(destinations ? { destinations } : {}),
      ...(contextString(app, 'omnihub:analytics') === 'false' ? { analytics: false as const } : {}),
      ...(contextString(app, 'omnihub:sourceMaps') === 'true' ? { sourceMaps: true } : {}),
      ...(defaultPhoneRegion ? { defaultPhoneRegion } : {}),
      ...(timelineRetentionDays ? { timelineRetentionDays: Number(timelineRetentionDays) } : {}),
      ...(rawRetentionDays ? { rawRetentionDays: Number(rawRetentionDays) } : {}),
      ...hub,
      stage,
    },
    ...(alarmTopicArn ? { alarmTopicArn } : {}),
    ...(domainName && certificateArn ? { customDomain: { domainName, certificateArn } } : {}),
  });
  const missing = [account ? undefined : 'account', region ? undefined : 'region'].filter(Boolean);
  if (missing.length > 0) {
    Annotations.of(stack).addWarningV2(
      'omnihub:placeholderEnvironment',
      `No ${missing.join(' or ')} from context or credentials: synthesized for ` +
        `${stack.account}/${stack.region}. Not deployable as is.`,
    );
  }
  Tags.of(stack).add('project', 'omnihub');
  Tags.of(stack).add('stage', stage);

  // A cdk-nag 3 pack reports failure for any violation, warning or error, and CDK then fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

/** A comma-separated context value as a list (`-c omnihub:connectors=shopify,twilio`); `''` is none. */
function contextList(app: App, key: string): string[] | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function contextString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// Synthesize only when run as the app (by the CDK CLI), not when a test imports createApp.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The file is read here, by the app the CDK CLI runs, never by the construct.
  createApp({ hub: { sync: readSyncConfig(process.cwd()) } }).app.synth();
}
