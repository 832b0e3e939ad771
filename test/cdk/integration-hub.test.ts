/**
 * The hub construct, built from a small test topology (a fake connector, the real consumers with a
 * stub entry, a read-only consumer, a table with a GSI). Each test synthesizes a fresh stack.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { profileTable } from '../../core/tables.ts';
import { IntegrationHub, TopologyError } from '../../lib/integration-hub.ts';
import { DEFAULTS, type Topology, visibilityTimeoutOf } from '../../lib/topology.ts';
import {
  acknowledgedFindings,
  acme,
  forService,
  logicalIdOf,
  propertiesOf,
  reporter,
  STUB_ENTRY,
  statementsOf,
  synthHub,
  TEST_CONTEXT,
  testTopology,
} from './support.ts';

const consumers = testTopology.consumers.map((consumer) => [consumer.id, consumer] as const);
const functionIds = [
  ...testTopology.ingest.map((route) => route.connector.id),
  ...testTopology.consumers.map((c) => c.id),
  ...testTopology.api.map((api) => api.id),
];

describe('Construct: IntegrationHub', () => {
  describe('bus rules (one topology)', () => {
    it.each(consumers)(
      'routes %s with exactly the topology pattern, retries and a target DLQ',
      (id, consumer) => {
        const { stack, hub, template } = synthHub();

        template.hasResourceProperties('AWS::Events::Rule', {
          EventBusName: stack.resolve(hub.bus.eventBusName),
          EventPattern: Match.objectEquals({ ...consumer.pattern }),
          State: 'ENABLED',
          Targets: [
            {
              Id: 'Queue',
              Arn: stack.resolve(hub.queues[id]?.queueArn),
              RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
              DeadLetterConfig: { Arn: stack.resolve(hub.targetDeadLetterQueues[id]?.queueArn) },
            },
          ],
        });
      },
    );

    it('declares no rule the topology does not', () => {
      const { template } = synthHub();

      const patterns = Object.values(template.findResources('AWS::Events::Rule')).map(
        (rule) => rule.Properties.EventPattern,
      );
      expect(patterns).toEqual(testTopology.consumers.map((consumer) => consumer.pattern));
    });

    it('applies the delivery retry given in props', () => {
      const { template } = synthHub({ deliveryRetry: { maxEventAge: Duration.hours(2), retryAttempts: 10 } });

      template.allResourcesProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 7_200, MaximumRetryAttempts: 10 } }),
        ],
      });
    });
  });

  describe('consumer queues', () => {
    it.each(consumers)(
      '%s: queue redrives to its DLQ and feeds the function in partial batches',
      (id, consumer) => {
        const { stack, hub, template } = synthHub();

        template.hasResourceProperties('AWS::SQS::Queue', {
          KmsMasterKeyId: stack.resolve(hub.key.keyArn),
          VisibilityTimeout: visibilityTimeoutOf(consumer),
          RedrivePolicy: {
            deadLetterTargetArn: stack.resolve(hub.deadLetterQueues[id]?.queueArn),
            maxReceiveCount: consumer.queue?.maxReceiveCount ?? DEFAULTS.maxReceiveCount,
          },
        });
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: stack.resolve(hub.queues[id]?.queueArn),
          FunctionName: stack.resolve(hub.functions[id]?.functionName),
          BatchSize: consumer.queue?.batchSize ?? DEFAULTS.batchSize,
          MaximumBatchingWindowInSeconds:
            consumer.queue?.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        });
      },
    );

    it.each(consumers)(
      '%s: queue and target DLQ accept EventBridge only from their own rule, and TLS only',
      (id) => {
        const { stack, hub, template } = synthHub();
        const ruleArn = stack.resolve(hub.rules[id]?.attrArn);

        for (const queue of [hub.queues[id], hub.targetDeadLetterQueues[id]]) {
          template.hasResourceProperties('AWS::SQS::QueuePolicy', {
            Queues: [stack.resolve(queue?.queueUrl)],
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Effect: 'Deny',
                  Action: 'sqs:*',
                  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                }),
                Match.objectLike({
                  Effect: 'Allow',
                  Principal: { Service: 'events.amazonaws.com' },
                  Action: 'sqs:SendMessage',
                  Resource: stack.resolve(queue?.queueArn),
                  Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
                }),
              ]),
            },
          });
        }
      },
    );

    it('refuses a visibility timeout shorter than the function timeout', () => {
      const topology: Topology = {
        ...testTopology,
        consumers: [{ ...reporter, timeoutSeconds: 60, queue: { visibilityTimeoutSeconds: 30 } }],
      };

      expect(() => synthHub({ topology })).toThrow(TopologyError);
      expect(() => synthHub({ topology })).toThrow(
        /visibility timeout \(30s\) is shorter than its function timeout/,
      );
    });
  });

  describe('encryption at rest: one customer-managed key', () => {
    it('rotates the key and lets CloudWatch Logs and EventBridge use it, conditioned to this account', () => {
      const { stack, template } = synthHub();

      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'CloudWatchLogsEncryption',
              Principal: {
                Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':logs:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':log-group:*',
                      ],
                    ],
                  },
                },
              },
            }),
            Match.objectLike({
              Sid: 'EventBridgeToEncryptedQueues',
              Principal: { Service: 'events.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Condition: { StringEquals: { 'aws:SourceAccount': stack.resolve(stack.account) } },
            }),
          ]),
        },
      });
    });

    it('encrypts every table, consumer queue, DLQ, secret, log group, the bus and the archive with it', () => {
      const { stack, hub, template } = synthHub();
      const keyArn = stack.resolve(hub.key.keyArn);
      const busDeadLetterQueueId = logicalIdOf(stack, hub.busDeadLetterQueue);

      const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
      expect(tables).toHaveLength(testTopology.tables.length);
      for (const table of tables) {
        expect(table.Properties.SSESpecification).toEqual({
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: keyArn,
        });
      }
      const queues = Object.entries(template.findResources('AWS::SQS::Queue')).filter(
        ([logicalId]) => logicalId !== busDeadLetterQueueId,
      );
      expect(queues).toHaveLength(3 * testTopology.consumers.length);
      for (const [, queue] of queues) {
        expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
      }
      for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret'))) {
        expect(secret.Properties.KmsKeyId).toEqual(keyArn);
      }
      const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      // One per function, the API's access log, the raw archive's delivery errors.
      expect(logGroups).toHaveLength(functionIds.length + 2);
      for (const logGroup of logGroups) {
        expect(logGroup.Properties.KmsKeyId).toEqual(keyArn);
        expect(logGroup.Properties.RetentionInDays).toBe(30);
      }
      template.hasResourceProperties('AWS::Events::EventBus', { KmsKeyIdentifier: keyArn });
      template.hasResourceProperties('AWS::Events::Archive', { KmsKeyIdentifier: keyArn });
    });

    it("gives the bus's own DLQ SQS-managed encryption, so key failures cannot also lose the events", () => {
      const { stack, hub, template } = synthHub();

      expect(propertiesOf(template, stack, hub.busDeadLetterQueue)).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
      template.hasResourceProperties('AWS::Events::EventBus', {
        DeadLetterConfig: { Arn: stack.resolve(hub.busDeadLetterQueue.queueArn) },
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [stack.resolve(hub.busDeadLetterQueue.queueUrl)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Condition: { ArnEquals: { 'aws:SourceArn': stack.resolve(hub.bus.eventBusArn) } },
            }),
          ]),
        },
      });
    });
  });

  describe('tables', () => {
    it.each(testTopology.tables.map((table) => [table.id, table] as const))(
      '%s: keys, on-demand, PITR and TTL as declared',
      (id, definition) => {
        const { stack, hub, template } = synthHub();
        const table = hub.tables[id];
        expect(table).toBeDefined();
        if (!table) return;

        const keySchema = [{ AttributeName: definition.partitionKey.name, KeyType: 'HASH' }];
        if (definition.sortKey) keySchema.push({ AttributeName: definition.sortKey.name, KeyType: 'RANGE' });
        expect(propertiesOf(template, stack, table)).toMatchObject({
          KeySchema: keySchema,
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
        });
      },
    );

    it('builds the secondary indexes the topology declares', () => {
      const { stack, hub, template } = synthHub();
      const profiles = hub.tables[profileTable.id];
      if (!profiles) throw new Error('profiles table missing');

      expect(propertiesOf(template, stack, profiles).GlobalSecondaryIndexes).toEqual([
        {
          IndexName: 'byEmail',
          KeySchema: [{ AttributeName: 'email', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ]);
    });

    it.each([
      ['retains stateful resources by default', undefined, 'Retain'],
      ['destroys them when asked', RemovalPolicy.DESTROY, 'Delete'],
    ])('%s', (_name, removalPolicy, expected) => {
      const { template } = synthHub({ removalPolicy });

      for (const type of [
        'AWS::KMS::Key',
        'AWS::DynamoDB::Table',
        'AWS::SecretsManager::Secret',
        'AWS::Logs::LogGroup',
      ]) {
        template.allResources(type, { DeletionPolicy: expected, UpdateReplacePolicy: expected });
      }
    });
  });

  describe('bus and archive', () => {
    it('names the bus after topology and stage, and archives every omnihub.* event for the topology retention', () => {
      const { template } = synthHub();

      template.hasResourceProperties('AWS::Events::EventBus', { Name: `${testTopology.bus.name}-test` });
      template.hasResourceProperties('AWS::Events::Archive', {
        EventPattern: { source: [{ prefix: 'omnihub.' }] },
        RetentionDays: testTopology.bus.archiveRetentionDays,
      });
    });

    it('uses the bare topology name without a stage, and the retention given in props', () => {
      const { template } = synthHub({ stage: undefined, archiveRetentionDays: 90 });

      template.hasResourceProperties('AWS::Events::EventBus', { Name: testTopology.bus.name });
      template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
    });
  });

  describe('webhook API', () => {
    it.each(testTopology.ingest.map((route) => [route.path, route] as const))(
      'POST %s goes to its own function with payload format 2.0',
      (routePath, route) => {
        const { stack, hub, template } = synthHub();
        const fn = hub.functions[route.connector.id];

        template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          ApiId: stack.resolve(hub.api.apiId),
          RouteKey: `${route.method} ${routePath}`,
        });
        template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
          ApiId: stack.resolve(hub.api.apiId),
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: stack.resolve(fn?.functionArn),
          PayloadFormatVersion: '2.0',
        });
      },
    );

    it('throttles the stage and writes access logs to the encrypted log group', () => {
      const { template } = synthHub();

      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubApiAccessLogs'), 'Arn'] },
          Format: Match.serializedJson(
            Match.objectLike({ requestId: '$context.requestId', status: '$context.status' }),
          ),
        },
      });
    });

    it('keeps default throttling for the fields not overridden', () => {
      const { template } = synthHub({ webhookThrottle: { rateLimit: 5 } });

      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 200 },
      });
    });
  });

  describe('functions', () => {
    it.each(functionIds)('%s: Node.js 22 or newer on arm64, with its own log group', (id) => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[id];
      if (!fn?.logGroup) throw new Error(`function ${id} or its log group missing`);

      const properties = propertiesOf(template, stack, fn);
      expect(properties.Runtime).toMatch(/^nodejs\d+\.x$/);
      expect(Number(String(properties.Runtime).replace(/\D/g, ''))).toBeGreaterThanOrEqual(22);
      expect(properties).toMatchObject({
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogGroup: stack.resolve(fn.logGroup.logGroupName) },
      });
      // Source maps ship with the bundle but are not read at init unless asked for (5–15 ms of cold start).
      expect(JSON.stringify(properties.Environment)).not.toContain('NODE_OPTIONS');
      // Its role carries no AWS managed policy: everything it may do is in the statements below.
      expect(propertiesOf(template, stack, fn.role ?? fn).ManagedPolicyArns).toBeUndefined();
    });

    it('sizes functions from the topology or the shared defaults', () => {
      const { stack, hub, template } = synthHub();

      for (const definition of [...testTopology.ingest, ...testTopology.consumers]) {
        const id = 'connector' in definition ? definition.connector.id : definition.id;
        const fn = hub.functions[id];
        if (!fn) throw new Error(`function ${id} missing`);
        expect(propertiesOf(template, stack, fn)).toMatchObject({
          MemorySize: definition.memoryMiB ?? DEFAULTS.memoryMiB,
          Timeout: definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
        });
      }
    });

    it('gives the ingest function exactly its secret, idempotency and quarantine tables, bus, raw stream and public URL', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[acme.id];
      if (!fn) throw new Error('ingest function missing');

      expect(propertiesOf(template, stack, fn).Environment).toEqual({
        Variables: {
          POWERTOOLS_SERVICE_NAME: acme.id,
          POWERTOOLS_METRICS_NAMESPACE: 'Omnihub',
          OMNIHUB_PUBLIC_URL: stack.resolve(hub.api.apiEndpoint),
          OMNIHUB_SECRET_ARN: stack.resolve(hub.secrets[acme.id]?.secretArn),
          OMNIHUB_IDEMPOTENCY_TABLE: stack.resolve(hub.tables.idempotency?.tableName),
          OMNIHUB_QUARANTINE_TABLE: stack.resolve(hub.tables.quarantine?.tableName),
          OMNIHUB_BUS_NAME: stack.resolve(hub.bus.eventBusName),
          OMNIHUB_RAW_STREAM_PREFIX: 'omnihub-test-test-raw-',
        },
      });
    });

    it('reads source maps at init only when asked to', () => {
      const { stack, hub, template } = synthHub({ sourceMaps: true });
      for (const id of functionIds) {
        const fn = hub.functions[id];
        if (!fn) throw new Error(`function ${id} missing`);
        expect(propertiesOf(template, stack, fn).Environment).toMatchObject({
          Variables: { NODE_OPTIONS: '--enable-source-maps' },
        });
      }
    });

    it('passes a given public URL without its trailing slash', () => {
      const { stack, hub, template } = synthHub({ publicUrl: 'https://hooks.example.com/' });
      const fn = hub.functions[acme.id];
      if (!fn) throw new Error('ingest function missing');

      expect(propertiesOf(template, stack, fn).Environment).toMatchObject({
        Variables: { OMNIHUB_PUBLIC_URL: 'https://hooks.example.com' },
      });
    });

    it('gives a read-only consumer its table name and nothing to publish with', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[reporter.id];
      if (!fn) throw new Error('reporter function missing');

      const variables = (
        propertiesOf(template, stack, fn).Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.OMNIHUB_PROFILE_TABLE).toEqual(stack.resolve(hub.tables.profiles?.tableName));
      expect(variables).not.toHaveProperty('OMNIHUB_BUS_NAME');
      expect(variables).not.toHaveProperty('OMNIHUB_SECRET_ARN');
    });
  });

  describe('permissions: exactly what the topology declares', () => {
    it('ingest: PutEvents on the bus only, GetSecretValue on its own secret only, the idempotency table, PutItem on the quarantine', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[acme.id];
      if (!fn) throw new Error('ingest function missing');
      const statements = statementsOf(template, stack, fn);

      expect(forService(statements, 'events')).toEqual([
        { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [stack.resolve(hub.bus.eventBusArn)] },
      ]);
      expect(forService(statements, 'secretsmanager')).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue'],
          Resource: [stack.resolve(hub.secrets[acme.id]?.secretArn)],
        },
      ]);
      const idempotencyArn = stack.resolve(hub.tables.idempotency?.tableArn);
      const quarantineArn = stack.resolve(hub.tables.quarantine?.tableArn);
      const all = forService(statements, 'dynamodb');
      const onIdempotency = (statement: (typeof all)[number]) =>
        JSON.stringify(statement.Resource) === JSON.stringify([idempotencyArn]);
      // The quarantine: new items only, never a read, an update or a delete.
      expect(all.filter((statement) => !onIdempotency(statement))).toEqual([
        { Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [quarantineArn] },
      ]);
      const dynamodb = all.filter(onIdempotency);
      expect(dynamodb.length).toBeGreaterThan(0);
      expect(dynamodb.flatMap((statement) => statement.Action)).toEqual(
        expect.arrayContaining([
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ]),
      );
    });

    it('ingest: decrypts with the key through Secrets Manager for its secret', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[acme.id];
      if (!fn) throw new Error('ingest function missing');

      expect(statementsOf(template, stack, fn)).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: [stack.resolve(hub.key.keyArn)],
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      });
    });

    it('profile-writer: no secrets, its profile table (and its indexes) only, PutEvents on the bus', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions['profile-writer'];
      if (!fn) throw new Error('profile-writer missing');
      const statements = statementsOf(template, stack, fn);
      const profilesArn = stack.resolve(hub.tables.profiles?.tableArn);

      expect(forService(statements, 'secretsmanager')).toEqual([]);
      for (const statement of forService(statements, 'dynamodb')) {
        expect(statement.Resource).toEqual([profilesArn, { 'Fn::Join': ['', [profilesArn, '/index/*']] }]);
      }
      expect(forService(statements, 'events')).toEqual([
        { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [stack.resolve(hub.bus.eventBusArn)] },
      ]);
      expect(forService(statements, 'sqs')).toEqual([
        expect.objectContaining({ Resource: [stack.resolve(hub.queues['profile-writer']?.queueArn)] }),
      ]);
    });

    it('a read-only consumer cannot write its table nor publish', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions[reporter.id];
      if (!fn) throw new Error('reporter missing');
      const statements = statementsOf(template, stack, fn);

      const actions = statements.flatMap((statement) => statement.Action);
      expect(actions).toContain('dynamodb:GetItem');
      expect(actions).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^dynamodb:(Put|Update|Delete|BatchWrite)/)]),
      );
      expect(forService(statements, 'events')).toEqual([]);
    });

    it('profile-api: reads its profile table only; cannot write, publish or read secrets', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions['profile-api'];
      if (!fn) throw new Error('profile-api missing');
      const statements = statementsOf(template, stack, fn);
      const profilesArn = stack.resolve(hub.tables.profiles?.tableArn);

      const dynamodb = forService(statements, 'dynamodb');
      expect(dynamodb.flatMap((statement) => statement.Action)).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']),
      );
      expect(dynamodb.flatMap((statement) => statement.Action)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^dynamodb:(Put|Update|Delete|BatchWrite)/)]),
      );
      for (const statement of dynamodb) {
        expect(statement.Resource).toEqual([profilesArn, { 'Fn::Join': ['', [profilesArn, '/index/*']] }]);
      }
      expect(forService(statements, 'events')).toEqual([]);
      expect(forService(statements, 'secretsmanager')).toEqual([]);
      expect(forService(statements, 'sqs')).toEqual([]);
    });

    it('profile-erasure: writes its profile table and publishes, nothing else', () => {
      const { stack, hub, template } = synthHub();
      const fn = hub.functions['profile-erasure'];
      if (!fn) throw new Error('profile-erasure missing');
      const statements = statementsOf(template, stack, fn);

      expect(forService(statements, 'dynamodb').flatMap((statement) => statement.Action)).toContain(
        'dynamodb:DeleteItem',
      );
      expect(forService(statements, 'events')).toEqual([
        { Effect: 'Allow', Action: ['events:PutEvents'], Resource: [stack.resolve(hub.bus.eventBusArn)] },
      ]);
      expect(forService(statements, 'secretsmanager')).toEqual([]);
      expect(forService(statements, 'sqs')).toEqual([]);
    });

    it.each(functionIds)(
      '%s: no wildcard resource for dynamodb, events, secretsmanager, sqs or logs',
      (id) => {
        const { stack, hub, template } = synthHub();
        const fn = hub.functions[id];
        if (!fn) throw new Error(`function ${id} missing`);

        for (const service of ['dynamodb', 'events', 'secretsmanager', 'sqs', 'logs']) {
          for (const statement of forService(statementsOf(template, stack, fn), service)) {
            expect(statement.Resource).not.toContain('*');
          }
        }
      },
    );

    it('refuses a function access to a table the topology does not declare', () => {
      const topology: Topology = {
        ...testTopology,
        consumers: [{ ...reporter, tables: { ledger: 'read' } }],
      };

      expect(() => synthHub({ topology })).toThrow(
        /needs table 'ledger', which the topology does not declare/,
      );
    });

    it('refuses a consumer id that is also a connector id', () => {
      const topology: Topology = {
        ...testTopology,
        consumers: [{ ...reporter, id: acme.id, entry: STUB_ENTRY }],
      };

      expect(() => synthHub({ topology })).toThrow(/Function id 'acme' is used twice/);
    });
  });

  describe('connector secrets', () => {
    it('holds a placeholder for each secret name of the connector, never a value', () => {
      const { stack, hub, template } = synthHub();
      const secret = hub.secrets[acme.id];
      if (!secret) throw new Error('secret missing');

      const properties = propertiesOf(template, stack, secret);
      expect(JSON.parse(String(properties.SecretString))).toEqual({ ACME_WEBHOOK_SECRET: '' });
      expect(properties.Description).toContain('ACME_WEBHOOK_SECRET');
    });
  });

  describe('template', () => {
    // Key, bus, archive, rules and queue policies refer to each other; Template.fromStack rejects a
    // template with a dependency cycle, which CloudFormation would only reject at deploy time.
    it('has no dependency cycle', () => {
      expect(() => synthHub()).not.toThrow();
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged finding, error or warning', () => {
      const { stack } = synthHub();

      const report = new AwsSolutionsChecks().validateScope(stack);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    });

    it('acknowledges findings on the specific resources, each with a reason, never on the stack or the hub', () => {
      const { stack, hub } = synthHub();

      const acknowledged = acknowledgedFindings(stack);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const { path, rules } of acknowledged) {
        expect([stack.node.path, hub.node.path]).not.toContain(path);
        for (const reason of Object.values(rules)) {
          expect(reason.length).toBeGreaterThan(40);
        }
      }
    });
  });

  describe('construct props for a platform team', () => {
    it('builds only the connectors and destinations asked for, and refuses unknown ids', () => {
      const topology: Topology = {
        ...testTopology,
        consumers: [
          ...testTopology.consumers,
          { ...reporter, id: 'sync-acme', destination: 'acme', entry: STUB_ENTRY },
        ],
      };
      const all = synthHub({ topology });
      expect(Object.keys(all.hub.functions)).toContain('sync-acme');

      const none = synthHub({ topology, destinations: [] });
      expect(Object.keys(none.hub.functions)).not.toContain('sync-acme');
      expect(Object.keys(none.hub.functions)).toContain(reporter.id);

      const noWebhooks = synthHub({ topology, connectors: [] });
      expect(noWebhooks.hub.topology.ingest).toEqual([]);
      noWebhooks.template.resourcePropertiesCountIs(
        'AWS::ApiGatewayV2::Route',
        { RouteKey: Match.stringLikeRegexp('^POST /webhooks/') },
        0,
      );

      expect(() => synthHub({ topology, connectors: ['shopfy'] })).toThrow(/unknown connector shopfy/);
      expect(() => synthHub({ topology, destinations: ['klaviyo'] })).toThrow(/unknown destination klaviyo/);
    });

    it('serves the API on a custom domain, which becomes the public URL vendors sign', () => {
      const app = new App({ context: TEST_CONTEXT });
      const stack = new Stack(app, 'Domain');
      const certificate = acm.Certificate.fromCertificateArn(
        stack,
        'Certificate',
        'arn:aws:acm:us-east-1:111122223333:certificate/abc',
      );
      const hub = new IntegrationHub(stack, 'Hub', {
        topology: testTopology,
        analytics: false,
        customDomain: { domainName: 'hooks.example.com', certificate },
      });
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainName: 'hooks.example.com' });
      template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { DomainName: Match.anyValue() });
      expect(hub.publicUrl).toBe('https://hooks.example.com');
    });
  });
});
