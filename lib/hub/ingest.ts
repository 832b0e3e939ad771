/**
 * `POST /webhooks/<connector>`: per connector, its secret, its ingest function and its public route
 * (authenticated by the vendor's signature, checked in the function).
 */
import { Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV, type IngestRoute } from '../topology.ts';
import { createHubFunction, type HubWiring } from './functions.ts';
import { grantSecretRead } from './grants.ts';
import { createPlaceholderSecret } from './secrets.ts';

/** `Secret`, the function (`LogGroup`, `Role`, `Function`) and `Route` under `scope`. */
export function createIngest(
  scope: Construct,
  hub: HubWiring & { readonly publicUrl: string },
  route: IngestRoute,
): { fn: NodejsFunction; secret: secretsmanager.Secret } {
  const { connector } = route;
  // One secret per connector: its webhook secrets and, for sync destinations, its API credentials.
  const secretNames = [...Object.keys(connector.secrets), ...Object.keys(connector.outbound?.secrets ?? {})];
  const secret = createPlaceholderSecret(
    scope,
    hub,
    `Omnihub ${connector.name} secrets (JSON keys: ${secretNames.join(', ') || 'none'}).`,
    secretNames,
  );
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: `Webhook signing secrets are issued by ${connector.name} and rotated in its admin; Secrets Manager cannot rotate them.`,
  });

  const fn = createHubFunction(
    scope,
    hub,
    `Ingest ${connector.name} webhooks (${route.method} ${route.path}).`,
    route,
  );
  fn.addEnvironment(ENV.publicUrl, hub.publicUrl);
  grantSecretRead(fn, secret, hub.key);
  hub.grantAccess(fn, route);

  const httpRoute = new apigwv2.HttpRoute(scope, 'Route', {
    httpApi: hub.api,
    routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
    integration: new HttpLambdaIntegration(`${connector.id}-integration`, fn, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    }),
  });
  Validations.of(httpRoute).acknowledge({
    id: 'AwsSolutions-APIG4',
    reason: `${connector.name} cannot send API credentials; each delivery is authenticated by its HMAC signature, verified over the raw body in the function before anything is parsed.`,
  });
  return { fn, secret };
}
