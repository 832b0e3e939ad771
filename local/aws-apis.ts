/**
 * The AWS JSON-protocol APIs the hub serves on its loopback listener, one entry per service: a call is
 * `POST /` with `X-Amz-Target: <target prefix>.<Operation>`, and the entry whose service has that
 * prefix answers it. Adding a service is adding its entry (`hub.ts`):
 *
 * ```ts
 * { service: EVENTBRIDGE, handle: (operation, input) => eventBridge.handle(operation, input) }
 * ```
 *
 * Before an entry sees a call, the body is read (413 over the limit) and the SigV4 signature is
 * checked against the hub's credentials for the service's signing name (`aws-signature.ts`); a call
 * that fails the check is answered with the service's own signature error and reaches nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AwsCredentials, AwsJsonService } from '../core/aws/json-client.ts';
import { MAX_REQUEST_BODY_BYTES } from './apigateway/http-api.ts';
import {
  AwsServiceError,
  parseJsonRequest,
  signatureError,
  writeAwsJsonError,
  writeAwsJsonResult,
} from './aws-json-protocol.ts';
import { checkAwsSignature } from './aws-signature.ts';
import { describeError, type HubLogger } from './log.ts';
import { PayloadTooLargeError, readBody } from './request-body.ts';

/** One AWS JSON-protocol service the hub emulates. */
export interface LocalAwsJsonApi {
  /** Its target prefix, JSON version and SigV4 signing name (`core/aws/`: `EVENTBRIDGE`, `SQS`, ...). */
  readonly service: AwsJsonService;
  /** The prefix of `__type` in its errors, where the service has one (SQS: `com.amazonaws.sqs`). */
  readonly errorNamespace?: string;
  /** Its errors carry the query protocol's code too (`x-amzn-query-error`), as SQS's do. @default false */
  readonly queryCompatible?: boolean;
  /** Answers one operation; throws {@link AwsServiceError} for the errors the service defines. */
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
}

/** Serves the hub's AWS JSON-protocol APIs. */
export class LocalAwsApis {
  readonly #byTargetPrefix: ReadonlyMap<string, LocalAwsJsonApi>;

  /** @param credentials what every call must be signed with: what the hub sets for its handlers */
  constructor(
    apis: readonly LocalAwsJsonApi[],
    private readonly credentials: AwsCredentials,
    private readonly log: HubLogger,
  ) {
    this.#byTargetPrefix = new Map(apis.map((api) => [api.service.targetPrefix, api]));
  }

  /** Answers the call `target` names (`AWSEvents.PutEvents`). */
  async serve(target: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const dot = target.indexOf('.');
    const prefix = dot === -1 ? target : target.slice(0, dot);
    const operation = dot === -1 ? '' : target.slice(dot + 1);
    const api = this.#byTargetPrefix.get(prefix);
    const version = api?.service.jsonVersion ?? '1.1';
    const fail = (error: AwsServiceError) => writeAwsJsonError(response, version, error, api?.errorNamespace);
    let body: Buffer;
    try {
      body = await readBody(request, MAX_REQUEST_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError)) throw error;
      response.setHeader('connection', 'close');
      fail(new AwsServiceError('RequestEntityTooLarge', 'Request too large.', 413));
      return;
    }
    if (!api) {
      fail(new AwsServiceError('UnknownOperationException', `The local hub does not serve ${target}.`));
      return;
    }
    const rejection = checkAwsSignature(
      { method: request.method ?? 'POST', url: request.url ?? '/', rawHeaders: request.rawHeaders, body },
      api.service.signingName,
      this.credentials,
    );
    if (rejection) {
      fail(signatureError(rejection, api.queryCompatible ? 'query-compatible' : 'json'));
      return;
    }
    try {
      writeAwsJsonResult(response, version, await api.handle(operation, parseJsonRequest(body)));
    } catch (error) {
      if (error instanceof AwsServiceError) {
        fail(error);
        return;
      }
      this.log.error(`${target} failed: ${describeError(error)}`);
      fail(new AwsServiceError('InternalFailure', 'The local hub failed to process the request.', 500));
    }
  }
}
