/**
 * A Lambda function of the local hub: the module at `entry` is imported on first use (the cold start)
 * and its `handler` export invoked with a Lambda-shaped context and the function's timeout.
 *
 * Handlers run in the hub's runtime thread (runtime-thread.ts), one worker thread per process shared
 * by every function, not on the event loop that serves the HTTP API, the bus and the queues: their
 * CPU (validation, translation, signing their AWS requests) runs on another core, as Lambda runs
 * functions apart from API Gateway and EventBridge. The thread shares the process's environment
 * variables (`SHARE_ENV`), so what the hub sets for handlers they see, as before. Events and results
 * cross threads by structured clone (a Lambda payload is JSON, which always survives it); a handler's
 * error arrives as an `Error` with its name, message and stack.
 *
 * What differs from Lambda: all functions share one thread, so they share `process.env` (every
 * table's env var is visible to every function, where Lambda grants each function only its own) and
 * module state; memory limits are not enforced; a timed-out invocation is abandoned, not frozen (its
 * promise may still finish in the background).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SHARE_ENV, type Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { startTypeScriptThread } from '../threads.ts';

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

/** What the hub posts to the runtime thread per invocation. */
export interface InvocationRequest {
  readonly id: number;
  readonly moduleUrl: string;
  readonly entry: string;
  readonly event: unknown;
  readonly name: string;
  readonly memoryMiB: number;
  readonly region: string;
  readonly accountId: string;
  /** `Date.now()` by which the invocation times out. */
  readonly deadline: number;
}

/** An error as it crosses threads; `value` when the handler failed with something not an `Error`. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly value?: true;
}

/** What the runtime thread posts back. */
export type InvocationReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

function deserializeError(error: SerializedError): unknown {
  if (error.value) return error.message;
  const revived = new Error(error.message);
  revived.name = error.name;
  if (error.stack) revived.stack = error.stack;
  return revived;
}

/** The runtime thread: started on the first invocation, replaced if it dies. */
class RuntimeThread {
  static #current: RuntimeThread | undefined;

  static get(): RuntimeThread {
    RuntimeThread.#current ??= new RuntimeThread();
    return RuntimeThread.#current;
  }

  readonly #worker: Worker;
  readonly #pending = new Map<number, (reply: InvocationReply) => void>();
  #nextId = 1;

  private constructor() {
    this.#worker = startTypeScriptThread(new URL('./runtime-thread.ts', import.meta.url), {
      env: SHARE_ENV,
    });
    this.#worker.on('message', (reply: InvocationReply) => {
      const settle = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      settle?.(reply);
    });
    // It must not keep a process alive that has nothing else to do (a test run, a CLI command); an
    // invocation in flight keeps it alive by its timeout timer. Only after the 'message' listener:
    // adding the first one refs the worker's message port again, whatever `unref()` said before.
    this.#worker.unref();
    const died = (error: unknown) => {
      if (RuntimeThread.#current === this) RuntimeThread.#current = undefined;
      const failure: SerializedError = {
        name: 'Runtime.ExitError',
        message: `the Lambda runtime thread stopped: ${error instanceof Error ? error.message : String(error)}`,
      };
      for (const [id, settle] of this.#pending) settle({ id, ok: false, error: failure });
      this.#pending.clear();
    };
    this.#worker.on('error', died);
    this.#worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
  }

  /**
   * Ends the runtime thread, if one is running: its invocations still in flight fail as when the
   * thread dies, and the next invocation starts a fresh thread (every function's cold start again).
   */
  static async stop(): Promise<void> {
    const current = RuntimeThread.#current;
    if (!current) return;
    RuntimeThread.#current = undefined;
    await current.#worker.terminate();
  }

  /** Posts an invocation; resolves with the reply. `abandon` forgets it (a timeout). */
  invoke(request: Omit<InvocationRequest, 'id'>): { reply: Promise<InvocationReply>; abandon: () => void } {
    const id = this.#nextId++;
    const reply = new Promise<InvocationReply>((settle) => this.#pending.set(id, settle));
    try {
      this.#worker.postMessage({ ...request, id } satisfies InvocationRequest);
    } catch (error) {
      // An event that cannot be cloned; events the hub builds are JSON, so this is a hub bug.
      this.#pending.delete(id);
      return {
        reply: Promise.resolve({
          id,
          ok: false,
          error: { name: 'Runtime.InvalidPayload', message: String(error) },
        }),
        abandon: () => {},
      };
    }
    return { reply, abandon: () => this.#pending.delete(id) };
  }
}

/**
 * Ends the runtime thread every {@link LocalFunction} of this process shares (the hub does when it
 * stops), so no thread outlives the hub; a later invocation starts a new one.
 *
 * @example
 * await stopLocalFunctionRuntime();
 */
export function stopLocalFunctionRuntime(): Promise<void> {
  return RuntimeThread.stop();
}

/** A function of the topology, invokable from the hub. */
export class LocalFunction {
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

  /** Invokes the handler with `event`; never throws, the outcome says how it ended. */
  async invoke(event: unknown): Promise<InvocationOutcome> {
    this.running += 1;
    const { name, entry, memoryMiB, timeoutSeconds } = this.configuration;
    const timeoutMs = timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const { reply, abandon } = RuntimeThread.get().invoke({
        moduleUrl: pathToFileURL(this.modulePath).href,
        entry,
        event,
        name,
        memoryMiB,
        region: this.environment.region,
        accountId: this.environment.accountId,
        deadline: Date.now() + timeoutMs,
      });
      const timeout = new Promise<InvocationOutcome>((settle) => {
        timer = setTimeout(() => {
          abandon();
          settle({ ok: false, error: new FunctionTimeoutError(timeoutSeconds), timedOut: true });
        }, timeoutMs);
      });
      const outcome = reply.then(
        (answer): InvocationOutcome =>
          answer.ok
            ? { ok: true, result: answer.result }
            : { ok: false, error: deserializeError(answer.error), timedOut: false },
      );
      return await Promise.race([outcome, timeout]);
    } finally {
      clearTimeout(timer);
      this.running -= 1;
    }
  }
}
