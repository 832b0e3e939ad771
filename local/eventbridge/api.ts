/**
 * The EventBridge JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`), as
 * @aws-sdk/client-eventbridge 3.1169 sends it, over the hub's single bus: PutEvents, the archive and
 * its replays (ListArchives, DescribeArchive, StartReplay, DescribeReplay, ListReplays, CancelReplay;
 * see replay.ts), plus the read-only calls useful while developing (DescribeEventBus, ListEventBuses,
 * ListRules, DescribeRule, ListTargetsByRule, TestEventPattern). Anything else answers
 * `UnknownOperationException`: the bus, its rules and targets come from lib/topology.ts.
 */
import { AwsServiceError } from '../aws-json-protocol.ts';
import { HubLogger } from '../log.ts';
import type { LocalEventBus } from './bus.ts';
import { compileEventPattern, InvalidEventPatternError } from './pattern.ts';
import { LocalReplays } from './replay.ts';

type Input = Readonly<Record<string, unknown>>;

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** Answers EventBridge API operations for the hub's bus. */
export class EventBridgeApi {
  readonly replays: LocalReplays;

  constructor(
    private readonly bus: LocalEventBus,
    log: HubLogger = new HubLogger(() => {}),
  ) {
    this.replays = new LocalReplays(bus, log);
  }

  /** Cancels running replays and waits for them; call before the queues close. */
  close(): Promise<void> {
    return this.replays.close();
  }

  async handle(operation: string, input: Input): Promise<unknown> {
    switch (operation) {
      case 'PutEvents':
        return this.bus.putEvents(input);
      case 'ListArchives':
        return this.replays.listArchives(input);
      case 'DescribeArchive':
        return this.replays.describeArchive(input);
      case 'StartReplay':
        return this.replays.startReplay(input);
      case 'DescribeReplay':
        return this.replays.describeReplay(input);
      case 'ListReplays':
        return this.replays.listReplays(input);
      case 'CancelReplay':
        return this.replays.cancelReplay(input);
      case 'DescribeEventBus':
        this.assertBus(input.Name);
        return { Name: this.bus.name, Arn: this.bus.arn };
      case 'ListEventBuses':
        return { EventBuses: [{ Name: this.bus.name, Arn: this.bus.arn }] };
      case 'ListRules':
        this.assertBus(input.EventBusName);
        return {
          Rules: this.bus.rules
            .filter((rule) => typeof input.NamePrefix !== 'string' || rule.name.startsWith(input.NamePrefix))
            .map((rule) => this.describeRule(rule.name)),
        };
      case 'DescribeRule':
        this.assertBus(input.EventBusName);
        return this.describeRule(requiredString(input, 'Name'));
      case 'ListTargetsByRule': {
        this.assertBus(input.EventBusName);
        const rule = this.ruleNamed(requiredString(input, 'Rule'));
        return { Targets: [{ Id: `${rule.name}-queue`, Arn: rule.target.arn }] };
      }
      case 'TestEventPattern':
        return this.testEventPattern(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `${operation} is not served by the local hub (its bus and rules come from lib/topology.ts).`,
        );
    }
  }

  private assertBus(name: unknown): void {
    if (name === undefined || name === null || name === this.bus.name || name === this.bus.arn) return;
    throw new AwsServiceError('ResourceNotFoundException', `Event bus ${String(name)} does not exist.`);
  }

  private ruleNamed(name: string) {
    const rule = this.bus.rules.find((candidate) => candidate.name === name);
    if (!rule) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Rule ${name} does not exist on EventBus ${this.bus.name}.`,
      );
    }
    return rule;
  }

  private describeRule(name: string): Record<string, unknown> {
    const rule = this.ruleNamed(name);
    return {
      Name: rule.name,
      Arn: this.bus.ruleArn(rule.name),
      EventPattern: JSON.stringify(rule.pattern),
      State: 'ENABLED',
      Description: rule.description,
      EventBusName: this.bus.name,
    };
  }

  private testEventPattern(input: Input): unknown {
    const patternText = requiredString(input, 'EventPattern');
    const eventText = requiredString(input, 'Event');
    let event: unknown;
    try {
      event = JSON.parse(eventText);
    } catch {
      throw new AwsServiceError('ValidationException', 'Parameter Event is not valid.');
    }
    try {
      return { Result: compileEventPattern(patternText)(event) };
    } catch (error) {
      if (error instanceof InvalidEventPatternError) {
        throw new AwsServiceError('InvalidEventPatternException', error.message);
      }
      throw error;
    }
  }
}
