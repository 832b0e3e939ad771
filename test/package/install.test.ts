/**
 * Package: omnihub as someone else installs it. Builds and packs the package, installs the tarball into
 * a fresh TypeScript CDK app whose whole code is README's construct example, type-checks the app against
 * the shipped `.d.ts`, synthesises it offline with the aws-cdk CLI (local esbuild bundling, no Docker),
 * and checks the template: the hub's functions bundled from the installed package, its tables, bus and
 * queues, and what the example configures.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyTable, profileTable, syncStateTable } from '../../core/tables.ts';
import { topology } from '../../lib/topology.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The whole pipeline (build, pack, install, tsc, synth) takes about 100 s on 2 cores. */
const BUDGET_MS = 165_000;

/** What README's example selects (`connectors`, `destinations`); the assertions below depend on it. */
const CONNECTORS = ['shopify', 'twilio', 'hubspot'];
const DESTINATIONS = ['hubspot'];

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** README's TypeScript block that imports the package: the app's whole `bin/app.ts`. */
function readmeExample(): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1] ?? '')
    .filter((code) => /from 'omnihub';/.test(code));
  if (blocks.length !== 1) {
    throw new Error(
      `README.md has ${blocks.length} TypeScript blocks importing 'omnihub'; the test needs exactly one`,
    );
  }
  return blocks[0] as string;
}

/** The environment of every step: no `npm_*` settings inherited from an `npm test` around this run. */
function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_')) env[name] = value;
  }
  return {
    ...env,
    CDK_DISABLE_VERSION_CHECK: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function lastLines(text: string, lines = 60): string {
  return text.trim().split('\n').slice(-lines).join('\n') || '(nothing)';
}

describe('Package: omnihub installed from its tarball into a CDK app', () => {
  let workdir: string;
  let appDir: string;
  let packedFiles: string[] = [];
  let cdkOut: string;
  let stackName: string;
  let resources: Record<string, Resource> = {};
  let tscOutput = '';

  /** Runs one step; a failure or a step past the budget says which step, the command and its output. */
  function step(
    name: string,
    command: string,
    args: readonly string[],
    cwd: string,
    deadline: number,
  ): Promise<string> {
    const timeout = Math.max(1_000, deadline - Date.now());
    return new Promise((resolve, reject) => {
      execFile(
        command,
        args,
        { cwd, env: childEnvironment(), timeout, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) return resolve(stdout);
          const how = error.killed
            ? `was stopped after ${Math.round(timeout / 1000)} s`
            : `exited with ${error.code}`;
          reject(
            new Error(
              `${name} failed: \`${[command, ...args].join(' ')}\` in ${cwd} ${how}\n` +
                `--- stdout ---\n${lastLines(stdout)}\n--- stderr ---\n${lastLines(stderr)}`,
            ),
          );
        },
      );
    });
  }

  beforeAll(async () => {
    const deadline = Date.now() + BUDGET_MS;
    workdir = mkdtempSync(path.join(tmpdir(), 'omnihub-package-'));
    appDir = path.join(workdir, 'app');
    mkdirSync(path.join(appDir, 'bin'), { recursive: true });

    await step('npm run build', 'npm', ['run', 'build'], REPO_ROOT, deadline);
    const packOutput = await step(
      'npm pack',
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', workdir],
      REPO_ROOT,
      deadline,
    );
    const [packed] = JSON.parse(packOutput) as { filename: string; files: { path: string }[] }[];
    if (!packed) throw new Error(`npm pack printed no package: ${packOutput}`);
    packedFiles = packed.files.map((file) => file.path);

    const repository = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const pinned = (name: string) => {
      const version = repository.devDependencies[name];
      if (!version) throw new Error(`package.json pins no ${name}`);
      return version;
    };
    writeFileSync(
      path.join(appDir, 'package.json'),
      JSON.stringify({
        name: 'omnihub-consumer',
        private: true,
        type: 'module',
        dependencies: {
          'aws-cdk-lib': pinned('aws-cdk-lib'),
          constructs: pinned('constructs'),
          omnihub: `file:${path.join(workdir, packed.filename)}`,
        },
        devDependencies: { '@types/node': pinned('@types/node') },
      }),
    );
    writeFileSync(
      path.join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          types: ['node'],
          strict: true,
          // The shipped .d.ts files are checked too, not only the app's use of them.
          skipLibCheck: false,
          outDir: 'build',
          rootDir: '.',
        },
        include: ['bin'],
      }),
    );
    writeFileSync(
      path.join(appDir, 'cdk.json'),
      JSON.stringify({ app: 'node build/bin/app.js', 'cli-telemetry': false }),
    );
    writeFileSync(path.join(appDir, 'bin', 'app.ts'), readmeExample());

    await step(
      'npm install',
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund'],
      appDir,
      deadline,
    );
    tscOutput = await step(
      'tsc',
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', appDir],
      appDir,
      deadline,
    );
    await step(
      'cdk synth',
      process.execPath,
      [path.join(REPO_ROOT, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--no-notices', '-q'],
      appDir,
      deadline,
    );

    cdkOut = path.join(appDir, 'cdk.out');
    const manifest = JSON.parse(readFileSync(path.join(cdkOut, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
    };
    const stacks = Object.entries(manifest.artifacts).filter(
      ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
    );
    const [stack] = stacks;
    if (stacks.length !== 1 || !stack?.[1].properties?.templateFile) {
      throw new Error(
        `cdk synth: expected one stack, the manifest lists ${stacks.map(([id]) => id).join(', ')}`,
      );
    }
    stackName = stack[0];
    const template = JSON.parse(
      readFileSync(path.join(cdkOut, stack[1].properties.templateFile), 'utf8'),
    ) as {
      Resources: Record<string, Resource>;
    };
    resources = template.Resources;
  }, BUDGET_MS + 10_000);

  afterAll(() => {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  /** The resource at a construct path under the hub (`Tables/profiles/Resource`), with its logical id. */
  function at(hubPath: string): { id: string; resource: Resource } {
    const cdkPath = `${stackName}/Hub/${hubPath}`;
    const found = Object.entries(resources).find(
      ([, resource]) => resource.Metadata?.['aws:cdk:path'] === cdkPath,
    );
    if (!found) throw new Error(`no resource at ${cdkPath}`);
    return { id: found[0], resource: found[1] };
  }
  const arnOf = (hubPath: string) => ({ 'Fn::GetAtt': [at(hubPath).id, 'Arn'] });
  const refOf = (hubPath: string) => ({ Ref: at(hubPath).id });

  it('ships the compiled code, the CLI entry and README: no sources, tests or fixtures', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/omnihub.js',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/cli/main.js',
      ]),
    );
    const unexpected = packedFiles.filter(
      (file) =>
        !/^(dist\/.+\.(js|d\.ts|json)|bin\/omnihub\.js|README\.md|package\.json)$/.test(file) ||
        /\.test\.|\/fixtures\/|^dist\/(test|bench|demo|scripts)\//.test(file),
    );
    expect(unexpected).toEqual([]);
  });

  it("type-checks README's example against the shipped .d.ts", () => {
    expect(tscOutput.trim()).toBe('');
    expect(existsSync(path.join(appDir, 'build/bin/app.js'))).toBe(true);
    expect(existsSync(path.join(appDir, 'node_modules/omnihub/dist/lib/index.d.ts'))).toBe(true);
  });

  const functions = [
    ...CONNECTORS.map((id) => ({
      path: `Ingest/${id}`,
      service: id,
      entry: topology.ingest.find((route) => route.connector.id === id)?.entry,
    })),
    ...['profile-writer', ...DESTINATIONS.map((id) => `sync-${id}`)].map((id) => ({
      path: `Consumers/${id}`,
      service: id,
      entry: topology.consumers.find((consumer) => consumer.id === id)?.entry,
    })),
    ...topology.api.map((api) => ({ path: `ApiFunctions/${api.id}`, service: api.id, entry: api.entry })),
    {
      path: 'Analytics/FlattenEvents',
      service: 'analytics-FlattenEvents',
      entry: 'analytics/lambda/flatten-events.ts',
    },
    {
      path: 'Analytics/ProfileSnapshot',
      service: 'analytics-ProfileSnapshot',
      entry: 'analytics/lambda/profile-snapshot.ts',
    },
  ];

  it.each(functions)('bundles $path from the installed package', ({ path: hubPath, service, entry }) => {
    const { resource } = at(`${hubPath}/Function/Resource`);
    expect(resource.Type).toBe('AWS::Lambda::Function');
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: expect.objectContaining({ POWERTOOLS_SERVICE_NAME: service }) },
    });
    const assetPath = resource.Metadata?.['aws:asset:path'];
    expect(typeof assetPath).toBe('string');
    const bundle = readFileSync(path.join(cdkOut, String(assetPath), 'index.mjs'), 'utf8');
    expect(bundle).toMatch(/export\s*\{[^}]*\bhandler\b[^}]*\}/);
    const sources = (
      JSON.parse(readFileSync(path.join(cdkOut, String(assetPath), 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      }
    ).sources;
    // Compiled JavaScript of the installed package, never a TypeScript source of the repository.
    expect(entry).toBeDefined();
    const compiledEntry = `node_modules/omnihub/dist/${String(entry).replace(/\.ts$/, '.js')}`;
    expect(sources.some((source) => source.endsWith(compiledEntry))).toBe(true);
    expect(sources.filter((source) => source.endsWith('.ts'))).toEqual([]);
  });

  it('leaves out the connectors and destinations the example does not select', () => {
    const paths = Object.values(resources).map((resource) => String(resource.Metadata?.['aws:cdk:path']));
    const unselected = [
      ...topology.ingest.map((route) => route.connector.id).filter((id) => !CONNECTORS.includes(id)),
      ...topology.consumers
        .flatMap((consumer) => (consumer.destination ? [consumer.destination] : []))
        .filter((id) => !DESTINATIONS.includes(id))
        .map((id) => `sync-${id}`),
    ];
    expect(unselected.length).toBeGreaterThan(0);
    for (const id of unselected) {
      expect(paths.filter((cdkPath) => cdkPath.includes(`/${id}/`))).toEqual([]);
    }
  });

  it.each([idempotencyTable, profileTable, syncStateTable])(
    'builds the $id table: its keys, on demand, encrypted with the hub key, point-in-time recovery',
    (definition) => {
      const { resource } = at(`Tables/${definition.id}/Resource`);
      expect(resource.Type).toBe('AWS::DynamoDB::Table');
      expect(resource.Properties).toMatchObject({
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
        ],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf('Key/Resource') },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    },
  );

  it('builds the bus (named after the stage, on the hub key, with its dead-letter queue) and its archive', () => {
    expect(at('Bus/Resource').resource.Properties).toMatchObject({
      Name: 'omnihub-prod',
      KmsKeyIdentifier: arnOf('Key/Resource'),
      DeadLetterConfig: { Arn: arnOf('BusDeadLetterQueue/Resource') },
    });
    expect(at('Archive/Archive').resource.Properties).toMatchObject({
      RetentionDays: 90,
      EventPattern: { source: [{ prefix: 'omnihub.' }] },
    });
  });

  it.each(['profile-writer', ...DESTINATIONS.map((id) => `sync-${id}`)])(
    'routes %s: bus rule -> encrypted queue with a DLQ -> the function',
    (id) => {
      expect(at(`Consumers/${id}/Queue/Resource`).resource.Properties).toMatchObject({
        KmsMasterKeyId: arnOf('Key/Resource'),
        VisibilityTimeout: 180,
        RedrivePolicy: {
          deadLetterTargetArn: arnOf(`Consumers/${id}/DeadLetterQueue/Resource`),
          // A sync queue allows the receives of 24 h of redeliveries (core/sync/redelivery.ts).
          maxReceiveCount: id === 'profile-writer' ? 5 : 202,
        },
      });
      expect(at(`Consumers/${id}/Rule`).resource.Properties).toMatchObject({
        EventBusName: refOf('Bus/Resource'),
        Targets: [
          expect.objectContaining({
            Arn: arnOf(`Consumers/${id}/Queue/Resource`),
            DeadLetterConfig: { Arn: arnOf(`Consumers/${id}/TargetDeadLetterQueue/Resource`) },
          }),
        ],
      });
    },
  );

  it("builds the HubSpot sync from the example's sync prop: only profile.updated, not its own changes", () => {
    expect(at('Consumers/sync-hubspot/Rule').resource.Properties.EventPattern).toEqual({
      source: ['omnihub.profiles'],
      $or: [
        {
          'detail-type': ['profile.updated'],
          detail: { data: { causedBy: { connector: [{ 'anything-but': 'hubspot' }] } } },
        },
      ],
    });
    const variables = (
      at('Consumers/sync-hubspot/Function/Resource').resource.Properties.Environment as {
        Variables: Record<string, string>;
      }
    ).Variables;
    expect(JSON.parse(String(variables.OMNIHUB_SYNC_CONFIG))).toMatchObject({
      destinations: { hubspot: { events: ['profile.updated'] } },
      owners: { company: 'hubspot' },
    });
  });

  it("serves the API on the example's domain and wires the example's own function to the profiles", () => {
    expect(at('Domain/Resource').resource.Properties).toMatchObject({
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [
        expect.objectContaining({ CertificateArn: expect.stringContaining(':certificate/') }),
      ],
    });
    const reports = Object.values(resources).find(
      (resource) => resource.Metadata?.['aws:cdk:path'] === `${stackName}/Reports/Resource`,
    );
    expect(reports?.Properties.Environment).toEqual({
      Variables: { [profileTable.envVar]: refOf(`Tables/${profileTable.id}/Resource`) },
    });
  });
});
