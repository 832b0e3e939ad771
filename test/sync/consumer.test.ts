/**
 * The sync consumer as Lambda runs it (`syncHandler` given an SQS batch) against dynalite: a message
 * about a profile whose merge is still in progress is reported as a failed record, so SQS delivers it
 * again, instead of being dropped as `profile_gone`, while the rest of the batch goes through; once
 * the merge completes, the same message goes through too.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hubspotOutbound } from '../../connectors/hubspot/outbound.ts';
import { ProfileStore } from '../../core/profile/store.ts';
import { ProfileWriter } from '../../core/profile/writer.ts';
import { SYNC_STATE_TABLE_ENV, syncHandler } from '../../core/sync/consumer.ts';
import { profileTable, syncStateTable } from '../../core/tables.ts';
import { canonical, email, upsert } from '../profile/events.ts';
import { leaveMergeInProgress, mergedPair, writeForMergedPerson } from '../profile/merges.ts';
import { startDynalite, type TestDynamo } from '../support/dynamo.ts';
import { RecordingPublisher } from '../support/ingest.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await dynamo.close();
});

const context = {
  functionName: 'omnihub-sync-hubspot',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:omnihub-sync-hubspot',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/omnihub-sync-hubspot',
  logStreamName: '2026/11/23/[$LATEST]abc',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** SQS records holding what the rule delivers: the EventBridge event with the envelope as detail. */
function batchOf(...messages: Array<[messageId: string, detail: unknown]>): SQSEvent {
  return {
    Records: messages.map(([messageId, detail]) => ({
      messageId,
      receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
      body: JSON.stringify({
        version: '0',
        id: 'b6b0a9c0-1d2e-4f3a-9b8c-7d6e5f4a3b2c',
        'detail-type': 'profile.updated',
        source: 'omnihub.profiles',
        account: '123456789012',
        time: '2025-01-03T00:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail,
      }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1735862400000',
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: '1735862400001',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:omnihub-sync-hubspot',
      awsRegion: 'us-east-1',
    })),
  };
}

describe('Sync consumer: a merge in progress', () => {
  it('reports the record failed while the survivor is missing, and syncs it once the merge completes', async () => {
    const tableName = await dynamo.createTable(profileTable);
    const store = new ProfileStore({ tableName, client: dynamo.documents });
    let tick = 0;
    const writer = new ProfileWriter(
      store,
      new RecordingPublisher(),
      () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)),
    );
    // Two people merged into the older one, the merge then caught in progress (the survivor missing).
    const { survivorId, mergedId } = await mergedPair(writer);
    const other = await writer.apply(upsert('shopify', '2025-01-03T00:00:00.000Z', [email('b@x.io')], {}));
    await leaveMergeInProgress(store, { survivorId, mergedId });

    // A change to the merged profile, published before the merge, reaches HubSpot's queue now, in a
    // batch with a change to someone else.
    const changeTo = (profileId: string) =>
      canonical('profile.updated', {
        connector: 'profiles',
        at: '2025-01-02T00:00:00.000Z',
        identities: [],
        data: {
          profileId,
          changes: { 'traits.firstName': 'A' },
          causedBy: { eventId: `evt-${profileId}`, connector: 'square' },
        },
      });
    const batch = batchOf(['m-merging', changeTo(mergedId)], ['m-other', changeTo(String(other.profileId))]);
    for (const [name, value] of Object.entries({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      OMNIHUB_PROFILE_TABLE: tableName,
      [SYNC_STATE_TABLE_ENV]: await dynamo.createTable(syncStateTable),
      OMNIHUB_BUS_NAME: 'omnihub-test',
      // No HubSpot credentials: once read, the profile is skipped as not configured, with no call.
      HUBSPOT_ACCESS_TOKEN: '',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    }))
      vi.stubEnv(name, value);
    const handler = syncHandler('hubspot', hubspotOutbound);

    expect(await handler(batch, context)).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-merging' }] });

    // The next write for the person creates the survivor again and completes the merge.
    await writeForMergedPerson(writer);
    expect(await handler(batch, context)).toEqual({ batchItemFailures: [] });
  });
});
