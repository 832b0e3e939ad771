/**
 * A body over the 10 MB limit gets its 413 as a real HTTP client sees it, not a connection reset: the
 * hub reads the rest and throws it away (up to a bound) before it answers and closes the connection,
 * on the webhook routes of both listeners and on the AWS APIs, with Content-Length or chunked.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../local/apigateway/http-api.ts';
import type { LocalHub } from '../../local/hub.ts';
import { MAX_DISCARDED_BODY_BYTES } from '../../local/request-body.ts';
import { startPausedTestHub } from './support/environment.ts';

/** Three times the limit: well over it, well under the bound of what is discarded. */
const OVERSIZED = Buffer.alloc(3 * MAX_REQUEST_BODY_BYTES, 0x61);

let hub: LocalHub;

beforeAll(async () => {
  hub = await startPausedTestHub();
});

afterAll(async () => {
  await hub?.stop();
});

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: Record<string, unknown>;
  /** What went wrong on the client's side of the connection (a reset, a broken pipe): nothing, always. */
  readonly errors: readonly string[];
}

/**
 * POSTs `body` with node:http as an uploading client does, in 4 MiB writes a few milliseconds apart
 * (with its Content-Length, or chunked), and resolves with the answer once the request is over, with
 * any socket error met on the way: one that closes a connection it has not read to the end resets it,
 * and the client's next write fails (EPIPE, ECONNRESET), when it does not lose the answer altogether.
 */
function upload(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  options: { readonly chunked?: boolean } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const errors: string[] = [];
    let answer: Omit<Answer, 'errors'> | undefined;
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: options.chunked ? headers : { ...headers, 'content-length': String(body.length) },
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          answer = {
            status: response.statusCode ?? 0,
            connection: response.headers.connection,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          };
        });
        response.on('error', (error) => errors.push(error.message));
      },
    );
    request.on('error', (error) => errors.push(error.message));
    request.on('close', () =>
      answer ? resolve({ ...answer, errors }) : reject(new Error(`no answer: ${errors.join(', ')}`)),
    );
    const step = 4 * 1024 * 1024;
    let offset = 0;
    const writeMore = () => {
      if (request.destroyed) return;
      if (offset >= body.length) {
        request.end();
        return;
      }
      const chunk = body.subarray(offset, offset + step);
      offset += step;
      request.write(chunk, () => setTimeout(writeMore, 5));
    };
    writeMore();
  });
}

describe('Local hub: bodies over the limit', () => {
  it.each([
    ['the loopback listener', () => hub.url, false],
    ['the loopback listener, chunked', () => hub.url, true],
    ['the webhook listener', () => hub.webhookUrl, false],
    ['the webhook listener, chunked', () => hub.webhookUrl, true],
  ])('answers a webhook of 30 MB on %s with its 413 JSON, then closes', async (_where, base, chunked) => {
    const answer = await upload(
      `${base()}/webhooks/echo`,
      { 'content-type': 'application/octet-stream' },
      OVERSIZED,
      { chunked },
    );
    expect(answer).toEqual({
      status: 413,
      connection: 'close',
      body: { error: 'payload_too_large', message: "The request body exceeds API Gateway's 10 MB limit." },
      errors: [],
    });
  });

  it('answers an AWS API call of 30 MB with the AWS JSON 413', async () => {
    const answer = await upload(
      `${hub.url}/`,
      { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      OVERSIZED,
    );
    expect(answer).toEqual({
      status: 413,
      connection: 'close',
      body: { __type: 'RequestEntityTooLarge', message: 'Request too large.' },
      errors: [],
    });
  });

  it('answers at once, reading nothing, a body declared beyond what it would discard (Expect: 100-continue)', async () => {
    const answer = await new Promise<Omit<Answer, 'errors'>>((resolve, reject) => {
      const request = httpRequest(
        `${hub.url}/webhooks/echo`,
        {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(MAX_DISCARDED_BODY_BYTES + 1),
            expect: '100-continue',
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              connection: response.headers.connection,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            }),
          );
        },
      );
      // It sends the headers only, as a client waiting for 100 Continue: the answer must come anyway.
      request.on('error', reject);
      request.flushHeaders();
    });
    expect(answer).toMatchObject({ status: 413, connection: 'close', body: { error: 'payload_too_large' } });
  });

  it('keeps serving a body under the limit on the same listener', async () => {
    const answer = await upload(
      `${hub.url}/webhooks/echo`,
      { 'content-type': 'application/octet-stream', 'x-echo-mode': 'object' },
      Buffer.alloc(1024, 0x61),
    );
    expect(answer).toMatchObject({ status: 200, body: { ok: true }, errors: [] });
  });
});
