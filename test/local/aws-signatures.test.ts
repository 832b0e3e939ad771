/**
 * The hub's AWS APIs (EventBridge, SQS, DynamoDB through dynalite) answer only calls SigV4-signed with
 * the hub's credentials, and refuse the others with the error their protocol uses, through the real
 * SDK clients; a refused call reaches nothing (no event archived, no message queued).
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../core/aws/sigv4.ts';
import type { LocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { hubClientConfig, startPausedTestHub } from './support/environment.ts';

let hub: LocalHub;

beforeAll(async () => {
  hub = await startPausedTestHub();
});

afterAll(async () => {
  await hub?.stop();
});

/** Nothing reached the bus or a queue. */
function published(): { archived: number; queued: number } {
  const health = hub.health();
  return {
    archived: health.archivedEvents,
    queued: health.consumers.reduce((sum, consumer) => sum + consumer.queue.visible, 0),
  };
}

function putEventsBody(): string {
  return JSON.stringify({
    Entries: [
      {
        EventBusName: hub.busName,
        Source: 'omnihub.testshop',
        DetailType: 'order.placed',
        Detail: JSON.stringify({ id: randomUUID(), data: { orderId: 'forged' } }),
      },
    ],
  });
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** A raw POST (node:http), so that headers and body go out exactly as given. */
function post(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>,
        }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** PutEvents signed by the hub's own signing code, with what `tamper` changes afterwards. */
function signedPutEvents(
  options: {
    readonly credentials?: typeof LOCAL_HUB_CREDENTIALS;
    readonly region?: string;
    readonly service?: string;
    readonly now?: Date;
  } = {},
): { headers: Record<string, string>; body: string } {
  const body = putEventsBody();
  const headers = signRequest({
    method: 'POST',
    url: new URL(hub.url),
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
    body,
    region: options.region ?? hub.region,
    service: options.service ?? 'events',
    credentials: options.credentials ?? LOCAL_HUB_CREDENTIALS,
    now: options.now ?? new Date(),
  });
  return { headers, body };
}

async function sdkFailure(send: () => Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await send();
  } catch (error) {
    const failure = error as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode };
  }
  throw new Error('the call was expected to fail');
}

describe('Local hub: SigV4 on the AWS APIs', () => {
  it.each([
    ["the hub's region", undefined],
    // Local tools sign with the region of their own shell; the credentials are what is checked.
    ['another region', 'eu-north-1'],
  ])(
    "accepts PutEvents signed with the hub's credentials for %s (the control for every refusal below)",
    async (_name, region) => {
      const before = published();
      const { headers, body } = signedPutEvents(region ? { region } : {});
      const answer = await post(`${hub.url}/`, headers, body);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ FailedEntryCount: 0 });
      expect(published().archived).toBe(before.archived + 1);
    },
  );

  it.each<[string, () => { headers: Record<string, string>; body: string }, number, string, RegExp]>([
    [
      'no signature',
      () => ({
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
        body: putEventsBody(),
      }),
      400,
      'MissingAuthenticationTokenException',
      /^Request is missing Authentication Token$/,
    ],
    [
      'a signature without its Credential',
      () => {
        const signed = signedPutEvents();
        signed.headers.authorization = (signed.headers.authorization ?? '').replace(/Credential=[^,]+, /, '');
        return signed;
      },
      400,
      'IncompleteSignatureException',
      /requires 'Credential' parameter/,
    ],
    [
      'the secret of someone else',
      () => signedPutEvents({ credentials: { accessKeyId: 'local', secretAccessKey: 'guessed' } }),
      400,
      'InvalidSignatureException',
      /signature we calculated does not match/,
    ],
    [
      'an access key the hub does not know',
      () => signedPutEvents({ credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'local' } }),
      400,
      'UnrecognizedClientException',
      /security token included in the request is invalid/,
    ],
    [
      'a body changed after signing',
      () => {
        const signed = signedPutEvents();
        return { headers: signed.headers, body: signed.body.replace('forged', 'forgex') };
      },
      400,
      'InvalidSignatureException',
      /signature we calculated does not match/,
    ],
    [
      'a signature 20 minutes old',
      () => signedPutEvents({ now: new Date(Date.now() - 20 * 60_000) }),
      400,
      'InvalidSignatureException',
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    ],
    [
      'a signature for another service',
      () => signedPutEvents({ service: 'sqs' }),
      400,
      'InvalidSignatureException',
      /scoped to correct service: 'events'/,
    ],
    [
      'an operation swapped after signing (X-Amz-Target unsigned)',
      () => {
        const signed = signedPutEvents();
        signed.headers.authorization = (signed.headers.authorization ?? '').replace(';x-amz-target', '');
        return signed;
      },
      400,
      'InvalidSignatureException',
      /'X-Amz-Target' must be a 'SignedHeader'/,
    ],
  ])('refuses PutEvents with %s, and publishes nothing', async (_kind, forge, status, code, message) => {
    const before = published();
    const { headers, body } = forge();
    const answer = await post(`${hub.url}/`, headers, body);
    expect(answer.status).toBe(status);
    expect(answer.headers['x-amzn-errortype']).toBe(code);
    expect(answer.body.__type).toBe(code);
    expect(String(answer.body.message)).toMatch(message);
    expect(published()).toEqual(before);
  });

  it('refuses SQS calls signed with other credentials, with the codes the SQS SDK knows, and queues nothing', async () => {
    const before = published();
    const queueUrl = hub.queueUrl('order-recorder');
    const send = (credentials: typeof LOCAL_HUB_CREDENTIALS) => {
      const sqs = new SQSClient({ ...hubClientConfig(hub), credentials, maxAttempts: 1 });
      return sdkFailure(() =>
        sqs
          .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'forged' }))
          .finally(() => sqs.destroy()),
      );
    };
    expect(await send({ accessKeyId: 'local', secretAccessKey: 'guessed' })).toEqual({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    expect(await send({ accessKeyId: 'AKIDOTHER', secretAccessKey: 'local' })).toEqual({
      name: 'InvalidClientTokenId',
      status: 403,
    });
    const unsigned = await post(
      `${hub.url}/`,
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
      JSON.stringify({ QueueUrl: queueUrl, MessageBody: 'forged' }),
    );
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers['x-amzn-query-error']).toBe('MissingAuthenticationToken;Sender');
    expect(published()).toEqual(before);
  });

  it('refuses EventBridge calls of the SDK signed with another secret', async () => {
    const before = published();
    const eventBridge = new EventBridgeClient({
      ...hubClientConfig(hub),
      credentials: { accessKeyId: 'local', secretAccessKey: 'guessed' },
      maxAttempts: 1,
    });
    const failure = await sdkFailure(() =>
      eventBridge
        .send(
          new PutEventsCommand(
            JSON.parse(putEventsBody()) as ConstructorParameters<typeof PutEventsCommand>[0],
          ),
        )
        .finally(() => eventBridge.destroy()),
    );
    expect(failure).toEqual({ name: 'InvalidSignatureException', status: 400 });
    expect(published()).toEqual(before);
  });

  it("answers DynamoDB (dynalite) only with the hub's credentials, and never a web page", async () => {
    const dynamoDb = (credentials: typeof LOCAL_HUB_CREDENTIALS) =>
      new DynamoDBClient({ endpoint: hub.dynamoDbUrl, region: hub.region, credentials, maxAttempts: 1 });
    const trusted = dynamoDb(LOCAL_HUB_CREDENTIALS);
    expect((await trusted.send(new ListTablesCommand({}))).TableNames).toContain('profiles');
    trusted.destroy();
    const forged = dynamoDb({ accessKeyId: 'local', secretAccessKey: 'guessed' });
    expect(
      await sdkFailure(() => forged.send(new ListTablesCommand({})).finally(() => forged.destroy())),
    ).toEqual({
      name: 'InvalidSignatureException',
      status: 400,
    });
    const listTables = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.ListTables',
    };
    const unsigned = await post(`${hub.dynamoDbUrl}/`, listTables, '{}');
    expect(unsigned).toMatchObject({
      status: 400,
      body: { __type: 'com.amazon.coral.service#MissingAuthenticationTokenException' },
    });
    const fromAPage = await post(
      `${hub.dynamoDbUrl}/`,
      { ...listTables, origin: 'https://evil.example' },
      '{}',
    );
    expect(fromAPage.status).toBe(403);
    expect(fromAPage.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('takes a signed AWS call on a path other than / for a route (or a 404), never for an AWS call', async () => {
    const before = published();
    const { headers, body } = signedPutEvents();
    const echoed = await post(`${hub.url}/webhooks/echo`, headers, body);
    expect(echoed.status).toBe(200);
    expect(echoed.body).toMatchObject({ routeKey: 'POST /webhooks/echo', isBase64Encoded: true });
    expect(Buffer.from(String(echoed.body.body), 'base64').toString('utf8')).toBe(body);
    const elsewhere = await post(`${hub.url}/anything`, headers, body);
    expect(elsewhere).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(published()).toEqual(before);
  });
});
