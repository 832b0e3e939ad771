/**
 * The hub's HTTP API: one `$default` stage, throttled, with JSON access logs that carry no body and no
 * headers (deliveries carry personal data), optionally on a custom domain. Routes are added by the
 * ingest and API functions (`lib/hub/ingest.ts`, `lib/hub/api-functions.ts`).
 */
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { createLogGroup, type HubContext } from './context.ts';
import type { CustomDomain, WebhookThrottle } from './props.ts';

export interface HubHttpApiProps {
  readonly busName: string;
  readonly throttle: Required<WebhookThrottle>;
  readonly customDomain?: CustomDomain;
}

/** `ApiAccessLogs`, `Api` and, with a custom domain, `Domain` under `hub`. */
export function createHttpApi(hub: Construct, context: HubContext, props: HubHttpApiProps): apigwv2.HttpApi {
  const accessLogs = createLogGroup(hub, 'ApiAccessLogs', context);
  const api = new apigwv2.HttpApi(hub, 'Api', {
    apiName: `${props.busName}-webhooks`,
    description: 'Omnihub: vendor webhooks (POST /webhooks/<connector>) and the profile API (IAM).',
    createDefaultStage: false,
  });
  const domainName = props.customDomain
    ? new apigwv2.DomainName(hub, 'Domain', {
        domainName: props.customDomain.domainName,
        certificate: props.customDomain.certificate,
      })
    : undefined;
  api.addStage('DefaultStage', {
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle,
    ...(domainName ? { domainMapping: { domainName } } : {}),
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
      // No body, no headers: deliveries carry personal data.
      format: AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          requestTime: '$context.requestTime',
          sourceIp: '$context.identity.sourceIp',
          userAgent: '$context.identity.userAgent',
          routeKey: '$context.routeKey',
          status: '$context.status',
          protocol: '$context.protocol',
          responseLength: '$context.responseLength',
          integrationStatus: '$context.integrationStatus',
          integrationLatency: '$context.integrationLatency',
          integrationError: '$context.integrationErrorMessage',
        }),
      ),
    },
  });
  return api;
}
