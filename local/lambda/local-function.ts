/**
 * A Lambda function run in the hub's process: the module at `entry` is imported on first use (the
 * cold start) and its `handler` export invoked with a Lambda-shaped context and the function's timeout.
 *
 * What differs from Lambda: all functions share one Node process, so they share `process.env` (every
 * table's env var is visible to every function, where Lambda grants each function only its own) and
 * module state; memory limits are not enforced; a timed-out invocation is abandoned, not frozen (its
 * promise may still finish in the background).
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** A Lambda handler: promise style, or callback style (`callback(error, result)`). */
export type LambdaHandler = (
  event: unknown,
  context: Context,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

export interface LocalFunctionConfiguration {
  /** Function name as Lambda would report it in `context.functionName`. */
  readonly name: string;
  /** Module path relative to the repository root; exports `handler`. */
  readonly entry: string;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
}

export interface LocalFunctionEnvironment {
  readonly repositoryRoot: string;
  readonly region: string;
  readonly accountId: string;
}

/** How an invocation ended. */
export type InvocationOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: unknown; readonly timedOut: boolean };

/** Lambda's own message when a function runs past its timeout. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
  constructor(timeoutSeconds: number) {
    super(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
  }
}

/** The entry module does not export a `handler` function (Lambda: Runtime.HandlerNotFound). */
export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

/** A function of the topology, invokable in-process. */
export class LocalFunction {
  private handler: Promise<LambdaHandler> | undefined;
  private running = 0;

  constructor(
    readonly configuration: LocalFunctionConfiguration,
    private readonly environment: LocalFunctionEnvironment,
  ) {}

  /** Invocations currently running (a timed-out one stops counting when it is abandoned). */
  get inFlight(): number {
    return this.running;
  }

  get modulePath(): string {
    return resolve(this.environment.repositoryRoot, this.configuration.entry);
  }

  /** Imports the module and returns its handler; a failed import is retried on the next invocation, as Lambda retries init. */
  loadHandler(): Promise<LambdaHandler> {
    if (!this.handler) {
      const loading = import(pathToFileURL(this.modulePath).href).then((module: { handler?: unknown }) => {
        if (typeof module.handler !== 'function') {
          throw new HandlerNotFoundError(
            `${this.configuration.entry} does not export a function named handler`,
          );
        }
        return module.handler as LambdaHandler;
      });
      loading.catch(() => {
        if (this.handler === loading) this.handler = undefined;
      });
      this.handler = loading;
    }
    return this.handler;
  }

  /** Invokes the handler with `event`; never throws, the outcome says how it ended. */
  async invoke(event: unknown): Promise<InvocationOutcome> {
    this.running += 1;
    const timeoutMs = this.configuration.timeoutSeconds * 1000;
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await this.loadHandler();
      const outcome = new Promise<InvocationOutcome>((settle) => {
        const succeed = (result: unknown) => settle({ ok: true, result });
        const fail = (error: unknown) => settle({ ok: false, error, timedOut: false });
        const context = this.createContext(deadline, { succeed, fail });
        const callback = (error?: unknown, result?: unknown) =>
          error !== undefined && error !== null ? fail(error) : succeed(result);
        try {
          const returned = handler(event, context, callback);
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
      const timeout = new Promise<InvocationOutcome>((settle) => {
        timer = setTimeout(
          () =>
            settle({
              ok: false,
              error: new FunctionTimeoutError(this.configuration.timeoutSeconds),
              timedOut: true,
            }),
          timeoutMs,
        );
      });
      return await Promise.race([outcome, timeout]);
    } catch (error) {
      return { ok: false, error, timedOut: false };
    } finally {
      clearTimeout(timer);
      this.running -= 1;
    }
  }

  private createContext(
    deadline: number,
    settle: { succeed: (result: unknown) => void; fail: (error: unknown) => void },
  ): Context {
    const { name, memoryMiB } = this.configuration;
    const { region, accountId } = this.environment;
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
}
