/**
 * The worker-thread side of the hub's Lambda runtime (local-function.ts): imports each function's
 * module on its first invocation (the cold start; a failed import is retried on the next one, as
 * Lambda retries init), builds a Lambda-shaped context, runs the handler promise style or callback
 * style, and posts the outcome back. Nothing here knows about the hub.
 */
import { randomUUID } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type { InvocationReply, InvocationRequest, LambdaHandler, SerializedError } from './local-function.ts';

const port = parentPort;
if (!port) throw new Error('runtime-thread.ts runs only as a worker thread');

const handlers = new Map<string, Promise<LambdaHandler>>();

function loadHandler(moduleUrl: string, entry: string): Promise<LambdaHandler> {
  let loading = handlers.get(moduleUrl);
  if (!loading) {
    loading = import(moduleUrl).then((module: { handler?: unknown }) => {
      if (typeof module.handler !== 'function') {
        throw Object.assign(new Error(`${entry} does not export a function named handler`), {
          name: 'HandlerNotFoundError',
        });
      }
      return module.handler as LambdaHandler;
    });
    const attempt = loading;
    attempt.catch(() => {
      if (handlers.get(moduleUrl) === attempt) handlers.delete(moduleUrl);
    });
    handlers.set(moduleUrl, attempt);
  }
  return loading;
}

function createContext(
  request: InvocationRequest,
  settle: { succeed: (result: unknown) => void; fail: (error: unknown) => void },
): Context {
  const { name, memoryMiB, region, accountId, deadline } = request;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    memoryLimitInMB: String(memoryMiB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: (error?: Error, result?: unknown) => (error ? settle.fail(error) : settle.succeed(result)),
    fail: (error: Error | string) => settle.fail(error),
    succeed: (result: unknown) => settle.succeed(result),
  };
}

/** An error as it crosses threads: what the hub logs and answers with. */
function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  }
  return { name: 'Error', message: String(error), value: true };
}

async function invoke(request: InvocationRequest): Promise<InvocationReply> {
  const handler = await loadHandler(request.moduleUrl, request.entry);
  // The first of succeed or fail to run settles the promise; later calls change nothing.
  return new Promise<InvocationReply>((settle) => {
    const succeed = (result: unknown) => settle({ id: request.id, ok: true, result });
    const fail = (error: unknown) => settle({ id: request.id, ok: false, error: serializeError(error) });
    const context = createContext(request, { succeed, fail });
    const callback = (error?: unknown, result?: unknown) =>
      error !== undefined && error !== null ? fail(error) : succeed(result);
    try {
      const returned = handler(request.event, context, callback);
      if (returned !== null && typeof returned === 'object' && 'then' in returned) {
        Promise.resolve(returned).then(succeed, fail);
      } else if (handler.length < 3) {
        // Not callback style and not a promise: Lambda takes the return value.
        succeed(returned);
      }
    } catch (error) {
      fail(error);
    }
  });
}

port.on('message', (request: InvocationRequest) => {
  invoke(request)
    .catch((error: unknown): InvocationReply => ({ id: request.id, ok: false, error: serializeError(error) }))
    .then((reply) => {
      try {
        port.postMessage(reply);
      } catch (error) {
        // A result that cannot cross threads (a function, a socket) is the handler's error.
        port.postMessage({
          id: request.id,
          ok: false,
          error: serializeError(error),
        } satisfies InvocationReply);
      }
    });
});
