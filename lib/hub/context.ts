/**
 * What every part of the hub is built with: its one key and the policies the caller chose. The
 * builders in `lib/hub/` take it instead of reaching into the construct.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface HubContext {
  /** The customer-managed key that encrypts everything at rest. */
  readonly key: kms.Key;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** Functions read their source maps (`NODE_OPTIONS=--enable-source-maps`). */
  readonly sourceMaps: boolean;
  /** Variables every hub function gets (settings of the deployment, see `functionEnvironmentOf`). */
  readonly environment: Readonly<Record<string, string>>;
}

/** A log group encrypted with the hub key, kept as long as the hub's log retention says. */
export function createLogGroup(scope: Construct, id: string, hub: HubContext): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: hub.key,
    retention: hub.logRetention,
    removalPolicy: hub.removalPolicy,
  });
}
