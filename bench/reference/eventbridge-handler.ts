/**
 * The cold-start reference: a trivial EventBridge publisher as a user would write it with the AWS
 * SDK, bundled naively (SDK included, minified, no other care).
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

const client = new EventBridgeClient({});

export const handler = async (event: { body?: string }) => {
  await client.send(
    new PutEventsCommand({
      Entries: [{ Source: 'reference', DetailType: 'webhook', Detail: event.body ?? '{}' }],
    }),
  );
  return { statusCode: 200 };
};
