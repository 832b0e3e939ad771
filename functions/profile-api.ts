/**
 * The profile API's Lambda. The topology deploys this module twice, splitting the routes as
 * `PROFILE_API` in `core/profile/api.ts` says which serves each: `profile-api` with read-only access
 * for the GET routes, and `profile-erasure` with write access and PutEvents for
 * `DELETE /profiles/{profileId}`, so a reader can never erase.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { BusPublisher } from '../core/aws/publisher.ts';
import { logger } from '../core/observability.ts';
import { handleProfileRequest, type ProfileApiDependencies } from '../core/profile/api.ts';
import { ProfileReader } from '../core/profile/reader.ts';
import { ProfileStore } from '../core/profile/store.ts';
import { ProfileWriter } from '../core/profile/writer.ts';

let dependencies: ProfileApiDependencies | undefined;

function build(): ProfileApiDependencies {
  const table = process.env.OMNIHUB_PROFILE_TABLE;
  if (!table) throw new Error('OMNIHUB_PROFILE_TABLE must be set');
  const store = new ProfileStore({ tableName: table });
  const bus = process.env.OMNIHUB_BUS_NAME;
  // Only the erasure function is granted PutEvents (and gets the bus name): it alone gets a writer.
  return {
    reader: new ProfileReader(store),
    ...(bus ? { writer: new ProfileWriter(store, new BusPublisher({ busName: bus })) } : {}),
  };
}

const lambdaHandler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  dependencies ??= build();
  return handleProfileRequest(event, dependencies);
};

/**
 * Every line of a request, the logged event included, carries the API's request id as its correlation
 * id: the id an erasure's `profile.erased` carries too.
 */
const correlateWithRequest: MiddlewareObj<APIGatewayProxyEventV2> = {
  before: ({ event }) => {
    logger.appendKeys({ correlationId: event.requestContext.requestId });
  },
};

export const handler = middy(lambdaHandler).use(correlateWithRequest).use(injectLambdaContext(logger));
