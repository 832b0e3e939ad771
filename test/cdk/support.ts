/**
 * Shared helpers for the CDK tests: a small topology with a fake connector, and a fresh stack per call
 * with bundling skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { defineConnector } from '../../core/connector.ts';
import { profileTable } from '../../core/tables.ts';
import { IntegrationHub, type IntegrationHubProps } from '../../lib/integration-hub.ts';
import { type ConsumerDefinition, ingestRoute, type Topology, topology } from '../../lib/topology.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Repo-relative path of the stand-in handler (tests never bundle, but the entry must exist). */
export const STUB_ENTRY = path.relative(
  REPO_ROOT,
  fileURLToPath(new URL('fixtures/handler.ts', import.meta.url)),
);

// aws-cdk-lib's WASM CloudFormation validation is slow and not what these tests are about.
process.env.CDK_VALIDATION = 'false';

/** The feature flags `cdk synth` runs with (cdk.json), so tests see the template the CLI would. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }
).context;

/** cdk.json's context, plus skipping esbuild: assertions are about the template, not the bundle. */
export const TEST_CONTEXT: Record<string, unknown> = { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] };

export const acme = defineConnector({
  id: 'acme',
  name: 'Acme Store',
  category: 'ecommerce',
  secrets: { ACME_WEBHOOK_SECRET: 'HMAC key from the Acme admin' },
  inbound: {
    contentTypes: ['application/json'],
    verify: () => {},
    parse: () => [],
    topics: {},
  },
});

/** A consumer that only reads a table and never publishes, to prove `read` stays read. */
export const reporter: ConsumerDefinition = {
  id: 'order-reporter',
  description: 'Counts placed orders per source.',
  entry: STUB_ENTRY,
  pattern: { source: [{ prefix: 'omnihub.' }], 'detail-type': ['order.placed', 'order.refunded'] },
  tables: { [profileTable.id]: 'read' },
  timeoutSeconds: 20,
  queue: { maxReceiveCount: 3, batchSize: 5, maxBatchingWindowSeconds: 2 },
};

/**
 * A small topology from the real helpers: the real tables (profiles given a GSI to exercise index
 * grants), one fake connector instead of the registry, and the real consumers plus `reporter`, all on
 * the stub entry.
 */
export const testTopology: Topology = {
  bus: { name: 'omnihub-test', archiveRetentionDays: 7 },
  tables: topology.tables.map((table) =>
    table.id === profileTable.id
      ? {
          ...table,
          globalSecondaryIndexes: [{ indexName: 'byEmail', partitionKey: { name: 'email', type: 'S' } }],
        }
      : table,
  ),
  ingest: [{ ...ingestRoute(acme), entry: STUB_ENTRY }],
  consumers: [...topology.consumers.map((consumer) => ({ ...consumer, entry: STUB_ENTRY })), reporter],
  api: topology.api.map((api) => ({ ...api, entry: STUB_ENTRY })),
};

/** Entries of a topology that are not on disk yet (others may still be writing them). */
export function missingEntries(of: Topology): string[] {
  return [...of.ingest, ...of.consumers]
    .map((fn) => fn.entry)
    .filter((entry) => !existsSync(path.resolve(REPO_ROOT, entry)));
}

/** The topology with entries not yet on disk pointed at the stub, so its shape can be tested today. */
export function withExistingEntries(of: Topology): Topology {
  const missing = new Set(missingEntries(of));
  const fix = <T extends { entry: string }>(fn: T): T =>
    missing.has(fn.entry) ? { ...fn, entry: STUB_ENTRY } : fn;
  return { ...of, ingest: of.ingest.map(fix), consumers: of.consumers.map(fix) };
}

/**
 * A fresh app, stack and hub; the template is synthesized once, here. Analytics is left out unless
 * asked for (its own tests cover it: test/cdk/analytics.test.ts), so counts here are the hub's own.
 */
export function synthHub(props: IntegrationHubProps = {}) {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Test');
  const hub = new IntegrationHub(stack, 'Hub', {
    topology: testTopology,
    stage: 'test',
    analytics: false,
    ...props,
  });
  const template = Template.fromStack(stack);
  return { app, stack, hub, template };
}

/** Logical id of an L2 construct's main resource, computed (never hard-coded). */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!CfnElement.isCfnElement(child)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  return stack.resolve(child.logicalId) as string;
}

/** Properties of a construct's resource as synthesized. */
export function propertiesOf(
  template: Template,
  stack: Stack,
  construct: IConstruct,
): Record<string, unknown> {
  const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
  const resource = resources[logicalIdOf(stack, construct)];
  if (!resource) {
    throw new Error(`${construct.node.path} is not in the template`);
  }
  return resource.Properties;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Condition?: unknown;
}

/** Every identity-policy statement attached to a function's role, actions and resources as arrays. */
export function statementsOf(template: Template, stack: Stack, fn: lambda.Function): Statement[] {
  if (!fn.role) {
    throw new Error(`${fn.node.path} has no role`);
  }
  const roleRef = { Ref: logicalIdOf(stack, fn.role) };
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleRef]) },
  });
  return Object.values(policies).flatMap((policy) =>
    (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).map((statement) => ({
      Effect: statement.Effect as string,
      Action: [statement.Action].flat() as string[],
      Resource: [statement.Resource].flat(),
      Condition: statement.Condition,
    })),
  );
}

/** Statements whose actions belong to one service, e.g. `dynamodb`. */
export function forService(statements: Statement[], service: string): Statement[] {
  return statements.filter((statement) =>
    statement.Action.some((action) => action.startsWith(`${service}:`)),
  );
}

/** Every cdk-nag acknowledgement in a stack: where it was made and the reason given per rule. */
export function acknowledgedFindings(stack: Stack): { path: string; rules: Record<string, string> }[] {
  return stack.node
    .findAll()
    .flatMap((node) =>
      node.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .map((entry) => ({ path: node.node.path, rules: entry.data as Record<string, string> })),
    );
}
