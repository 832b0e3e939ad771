/**
 * Connector secrets: one Secrets Manager secret per connector, holding its webhook secrets and, for
 * sync destinations, its API credentials, encrypted with the hub key.
 */
import { SecretValue } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { HubContext } from './context.ts';

/**
 * `Secret` under `scope`, a JSON object with one explicitly empty value per name. Placeholders only:
 * the template never carries a secret value. Operators put the vendor's values with
 * `aws secretsmanager put-secret-value`. CloudFormation leaves them alone until the set of names
 * changes; that deploy resets the value to fresh placeholders (put them again).
 */
export function createPlaceholderSecret(
  scope: Construct,
  hub: HubContext,
  description: string,
  names: readonly string[],
): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, 'Secret', {
    description,
    encryptionKey: hub.key,
    secretObjectValue: Object.fromEntries(names.map((name) => [name, SecretValue.unsafePlainText('')])),
    removalPolicy: hub.removalPolicy,
  });
}
