/**
 * Every function of the hub: its own role (no AWS managed policy, only what its topology entry is
 * granted) and its own CMK-encrypted log group, bundled by `lib/bundling.ts`.
 */
import { existsSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { entryFile, omnihubFunction } from '../bundling.ts';
import { DEFAULTS, type FunctionAccess, type FunctionDefinition } from '../topology.ts';
import { createLogGroup, type HubContext } from './context.ts';
import { TopologyError } from './topology-checks.ts';

/** What the ingest, consumer and API builders wire their functions to. */
export interface HubWiring extends HubContext {
  readonly api: apigwv2.HttpApi;
  readonly bus: events.IEventBus;
  /** {@link IntegrationHub.grantAccess}: the access a topology entry declares, and its variables. */
  grantAccess(fn: lambda.Function, access: FunctionAccess): void;
}

/** `LogGroup`, `Role` and `Function` under `scope`, whose id names the service (`POWERTOOLS_SERVICE_NAME`). */
export function createHubFunction(
  scope: Construct,
  hub: HubContext,
  description: string,
  definition: FunctionDefinition,
): NodejsFunction {
  const entry = entryFile(definition.entry);
  if (!existsSync(entry)) {
    throw new TopologyError(`${scope.node.path}: entry '${definition.entry}' does not exist (${entry}).`);
  }
  const logGroup = createLogGroup(scope, 'LogGroup', hub);
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Omnihub ${scope.node.id}: only what its topology entry declares.`,
  });
  logGroup.grantWrite(role);
  return omnihubFunction(scope, {
    entry: definition.entry,
    description,
    memorySize: definition.memoryMiB ?? DEFAULTS.memoryMiB,
    timeout: Duration.seconds(definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds),
    role,
    logGroup,
    serviceName: scope.node.id,
    environment: { ...hub.environment, ...definition.environment },
    ...(hub.sourceMaps ? { sourceMaps: true } : {}),
  });
}
