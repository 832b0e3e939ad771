/**
 * The topology's consumers wired as AWS wires them: per consumer a dead-letter queue, its queue
 * (redriving to the DLQ after `maxReceiveCount` receives), the consumer's function, the event source
 * mapping that polls the queue into it, and the bus rule whose pattern targets the queue.
 */
import {
  type ConsumerDefinition,
  DEFAULTS,
  retentionOf,
  type Topology,
  visibilityTimeoutOf,
} from '../lib/topology.ts';
import type { DataDirectory } from './data-directory.ts';
import type { BusRule } from './eventbridge/bus.ts';
import { compileEventPattern } from './eventbridge/pattern.ts';
import { localFunction } from './hub-functions.ts';
import type { LocalFunction, LocalFunctionEnvironment } from './lambda/local-function.ts';
import { describeError, type HubLogger } from './log.ts';
import { SqsEventSourceMapping } from './sqs/event-source-mapping.ts';
import { SqsQueue } from './sqs/queue.ts';

/** SQS's default visibility timeout, for the dead-letter queues nobody consumes. */
const DEAD_LETTER_VISIBILITY_TIMEOUT_SECONDS = 30;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** One consumer as it runs: its queues and the poller that feeds its function. */
export interface ConsumerRuntime {
  readonly id: string;
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  readonly mapping: SqsEventSourceMapping;
}

export interface ConsumerWiringOptions {
  readonly topology: Topology;
  readonly storage: DataDirectory;
  readonly functionEnvironment: LocalFunctionEnvironment;
  /** Whether the pollers start running or paused (they start polling only when `start()`ed). */
  readonly state: 'running' | 'paused';
  readonly log: HubLogger;
  /** Called with each queue's close as soon as it is open, so a failure later still closes it. */
  readonly onOpened: (close: () => void) => void;
}

export interface WiredConsumers {
  /** Every queue by name, DLQs included: what the hub's SQS API serves. */
  readonly queues: Map<string, SqsQueue>;
  readonly consumers: ConsumerRuntime[];
  /** The bus rules, one per consumer, targeting its queue. */
  readonly rules: BusRule[];
  readonly functions: LocalFunction[];
}

/** Opens the queues (from their journals), and builds the functions, pollers and rules. */
export function wireConsumers(options: ConsumerWiringOptions): WiredConsumers {
  const { topology, storage, functionEnvironment, log } = options;
  const { region, accountId } = functionEnvironment;
  const sqsArn = (name: string) => `arn:aws:sqs:${region}:${accountId}:${name}`;
  const wired: WiredConsumers = { queues: new Map(), consumers: [], rules: [], functions: [] };
  for (const consumer of topology.consumers) {
    const deadLetterName = `${consumer.id}-dlq`;
    if (!QUEUE_NAME.test(deadLetterName))
      throw new Error(`consumer id ${consumer.id} cannot name an SQS queue`);
    const matches = compilePattern(consumer);
    const queueLog = log.child(consumer.id);
    const deadLetterQueue = SqsQueue.open(
      {
        name: deadLetterName,
        arn: sqsArn(deadLetterName),
        visibilityTimeoutSeconds: DEAD_LETTER_VISIBILITY_TIMEOUT_SECONDS,
        messageRetentionSeconds: DEFAULTS.deadLetterRetentionSeconds,
      },
      { journalPath: storage.journalPath(deadLetterName), log: queueLog },
    );
    options.onOpened(() => deadLetterQueue.close());
    const queue = SqsQueue.open(
      {
        name: consumer.id,
        arn: sqsArn(consumer.id),
        visibilityTimeoutSeconds: visibilityTimeoutOf(consumer),
        messageRetentionSeconds: retentionOf(consumer),
        redrive: {
          deadLetterQueue,
          maxReceiveCount: consumer.queue?.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
        },
      },
      { journalPath: storage.journalPath(consumer.id), log: queueLog },
    );
    options.onOpened(() => queue.close());
    wired.queues.set(queue.name, queue);
    wired.queues.set(deadLetterQueue.name, deadLetterQueue);
    const consumerFunction = localFunction(consumer.id, consumer, functionEnvironment);
    wired.functions.push(consumerFunction);
    const mapping = new SqsEventSourceMapping(
      {
        queue,
        consumer: consumerFunction,
        batchSize: consumer.queue?.batchSize ?? DEFAULTS.batchSize,
        maximumBatchingWindowSeconds:
          consumer.queue?.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
        region,
        log: queueLog,
      },
      options.state,
    );
    wired.consumers.push({ id: consumer.id, queue, deadLetterQueue, mapping });
    wired.rules.push({
      name: consumer.id,
      description: consumer.description,
      pattern: consumer.pattern,
      matches,
      target: queue,
    });
  }
  return wired;
}

function compilePattern(consumer: ConsumerDefinition): BusRule['matches'] {
  try {
    return compileEventPattern(consumer.pattern);
  } catch (error) {
    throw new Error(`consumer ${consumer.id}: ${describeError(error)}`);
  }
}
