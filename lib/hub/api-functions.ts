/**
 * Functions behind routes of the hub's own API (the profile API): every route IAM-authorized (SigV4).
 */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import type { ApiFunctionDefinition } from '../topology.ts';
import { createHubFunction, type HubWiring } from './functions.ts';

/** The function (`LogGroup`, `Role`, `Function`) and one route per topology route under `scope`. */
export function createApiFunction(
  scope: Construct,
  hub: HubWiring,
  api: ApiFunctionDefinition,
): NodejsFunction {
  const fn = createHubFunction(scope, hub, api.description, api);
  hub.grantAccess(fn, api);
  const integration = new HttpLambdaIntegration(`${api.id}-integration`, fn, {
    payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
  });
  const authorizer = new HttpIamAuthorizer();
  for (const route of api.routes) {
    new apigwv2.HttpRoute(scope, `${route.method}${route.path.replace(/[^A-Za-z0-9]+/g, '-')}`, {
      httpApi: hub.api,
      routeKey: apigwv2.HttpRouteKey.with(route.path, apigwv2.HttpMethod[route.method]),
      integration,
      authorizer,
    });
  }
  return fn;
}
