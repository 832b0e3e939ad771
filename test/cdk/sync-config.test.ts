/**
 * The sync configuration as a construct prop: the hub builds its sync consumers from `sync`, the
 * library reads no file when imported, and only the repository's entry points read
 * `omnihub.sync.json` (readSyncConfig).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it } from 'vitest';
import {
  readSyncConfig,
  SYNC_CONFIG_ENV,
  SYNC_CONFIG_FILE_ENV,
  SyncConfigError,
} from '../../core/sync/config.ts';
import { IntegrationHub, TopologyError } from '../../lib/integration-hub.ts';
import { createTopology, topology } from '../../lib/topology.ts';
import { REPO_ROOT, TEST_CONTEXT } from './support.ts';

const SYNC = {
  destinations: {
    shopify: { enabled: false },
    hubspot: { events: ['profile.updated' as const] },
    square: { fields: ['email' as const, 'phone' as const] },
  },
  owners: { company: 'hubspot', firstName: 'square' },
  reportingCurrency: 'EUR',
};

const BOTH_EVENTS = ['profile.updated', 'profile.merged'];

function build(props: ConstructorParameters<typeof IntegrationHub>[2] = {}) {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const hub = new IntegrationHub(stack, 'Hub', { stage: 'test', analytics: false, ...props });
  return { hub, stack, template: Template.fromStack(stack) };
}

function syncConfigOf(hub: IntegrationHub, stack: Stack, consumerId: string): unknown {
  const fn = hub.functions[consumerId];
  if (!fn) throw new Error(`no function ${consumerId}`);
  const environment = stack.resolve((fn.node.defaultChild as { environment?: unknown }).environment) as {
    variables: Record<string, string>;
  };
  return JSON.parse(String(environment.variables[SYNC_CONFIG_ENV]));
}

describe('Construct: IntegrationHub sync prop', () => {
  it('leaves out a destination the configuration turns off: no function, queue or rule', () => {
    const { hub, template } = build({ sync: SYNC });

    expect(Object.keys(hub.functions)).not.toContain('sync-shopify');
    expect(Object.keys(hub.rules).sort()).toEqual([
      'profile-writer',
      'sync-hubspot',
      'sync-sendgrid',
      'sync-square',
    ]);
    const patterns = Object.values(template.findResources('AWS::Events::Rule')).map((rule) =>
      JSON.stringify(rule.Properties.EventPattern),
    );
    expect(patterns.some((pattern) => pattern.includes('"anything-but":"shopify"'))).toBe(false);
    expect(patterns.some((pattern) => pattern.includes('"anything-but":"square"'))).toBe(true);
  });

  it("builds each rule from the destination's events", () => {
    const { hub, stack } = build({ sync: SYNC });

    expect(stack.resolve(hub.rules['sync-hubspot']?.eventPattern)).toEqual({
      source: ['omnihub.profiles'],
      $or: [
        {
          'detail-type': ['profile.updated'],
          detail: { data: { causedBy: { connector: [{ 'anything-but': 'hubspot' }] } } },
        },
      ],
    });
    expect(stack.resolve(hub.rules['sync-square']?.eventPattern)).toMatchObject({
      $or: [{ 'detail-type': ['profile.updated'] }, { 'detail-type': ['profile.merged'] }],
    });
  });

  it('hands the resolved configuration, defaults filled in, to every sync function', () => {
    const { hub, stack } = build({ sync: SYNC });

    for (const id of ['sync-hubspot', 'sync-square', 'sync-sendgrid']) {
      expect(syncConfigOf(hub, stack, id)).toEqual({
        destinations: {
          shopify: { enabled: false, events: BOTH_EVENTS, overwrite: [], options: {} },
          hubspot: { enabled: true, events: ['profile.updated'], overwrite: [], options: {} },
          square: {
            enabled: true,
            events: BOTH_EVENTS,
            fields: ['email', 'phone'],
            overwrite: [],
            options: {},
          },
        },
        owners: { company: 'hubspot', firstName: 'square' },
        reportingCurrency: 'EUR',
        delivery: {
          maxAttempts: 5,
          baseDelayMs: 250,
          maxDelayMs: 8_000,
          maxInProcessWaitMs: 10_000,
          timeoutMs: 10_000,
          retryFor: '24h',
          redeliveryDelay: { first: '30s', max: '15m' },
        },
      });
    }
  });

  it('uses the defaults without the prop: every destination, company owned by HubSpot', () => {
    const { hub, stack } = build();

    expect(Object.keys(hub.rules).sort()).toEqual([
      'profile-writer',
      'sync-hubspot',
      'sync-sendgrid',
      'sync-shopify',
      'sync-square',
    ]);
    expect(syncConfigOf(hub, stack, 'sync-shopify')).toMatchObject({
      destinations: {},
      owners: { company: 'hubspot' },
      reportingCurrency: 'USD',
    });
  });

  it.each([
    [
      { destinations: { square: { feilds: ['email'] } } },
      'sync: destinations.square: Unrecognized key: "feilds"',
    ],
    [
      { reportingCurrency: 'EURO' },
      'sync: reportingCurrency: Too big: expected string to have exactly 3 characters',
    ],
    [
      { destinations: { square: { fields: ['orderCount'] } } },
      'destinations.square.fields: orderCount cannot be sent to square',
    ],
  ])('refuses an invalid configuration at synth time: %j', (sync, message) => {
    expect(() => build({ sync: sync as never })).toThrow(SyncConfigError);
    expect(() => build({ sync: sync as never })).toThrow(message);
  });

  it('refuses a topology and a sync configuration together, instead of dropping one', () => {
    expect(() => build({ topology, sync: SYNC })).toThrow(TopologyError);
    expect(() => build({ topology, sync: SYNC })).toThrow(/either topology or sync/);
  });

  it('createTopology changes only the sync consumers of the default topology', () => {
    const custom = createTopology({ sync: SYNC });

    expect(custom.consumers.map((consumer) => consumer.id)).toEqual(
      topology.consumers.map((consumer) => consumer.id).filter((id) => id !== 'sync-shopify'),
    );
    expect(custom.consumers.find((consumer) => consumer.id === 'sync-hubspot')?.pattern).toEqual({
      source: ['omnihub.profiles'],
      $or: [
        {
          'detail-type': ['profile.updated'],
          detail: { data: { causedBy: { connector: [{ 'anything-but': 'hubspot' }] } } },
        },
      ],
    });
    expect({ ...custom, consumers: [] }).toEqual({ ...topology, consumers: [] });
    expect(createTopology()).toBe(topology);
  });
});

describe('Sync configuration files: only the entry points read them', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function directoryWithFile(name: string, content: unknown): string {
    dir = mkdtempSync(path.join(tmpdir(), 'omnihub-sync-'));
    writeFileSync(path.join(dir, name), JSON.stringify(content));
    return dir;
  }

  it('importing the library in a directory with omnihub.sync.json does not read it', () => {
    const cwd = directoryWithFile('omnihub.sync.json', { destinations: { shopify: { enabled: false } } });
    const probe = path.join(cwd, 'probe.ts');
    writeFileSync(
      probe,
      `import { topology } from ${JSON.stringify(pathToFileURL(path.join(REPO_ROOT, 'lib/index.ts')).href)};\n` +
        'console.log(JSON.stringify(topology.consumers.map((consumer) => consumer.id)));\n',
    );
    const env = { ...process.env };
    delete env[SYNC_CONFIG_ENV];
    delete env[SYNC_CONFIG_FILE_ENV];
    const output = execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [probe], {
      cwd,
      env,
      encoding: 'utf8',
    });

    expect(JSON.parse(output)).toContain('sync-shopify');
    expect(readSyncConfig(cwd, {}).destinations).toMatchObject({ shopify: { enabled: false } });
  });

  it('reads OMNIHUB_SYNC_CONFIG first, then the named file, then omnihub.sync.json', () => {
    const cwd = directoryWithFile('omnihub.sync.json', { reportingCurrency: 'GBP' });
    writeFileSync(path.join(cwd, 'other.json'), JSON.stringify({ reportingCurrency: 'CAD' }));

    expect(readSyncConfig(cwd, {}).reportingCurrency).toBe('GBP');
    expect(readSyncConfig(cwd, { [SYNC_CONFIG_FILE_ENV]: 'other.json' }).reportingCurrency).toBe('CAD');
    expect(
      readSyncConfig(cwd, {
        [SYNC_CONFIG_ENV]: '{"reportingCurrency":"JPY"}',
        [SYNC_CONFIG_FILE_ENV]: 'other.json',
      }).reportingCurrency,
    ).toBe('JPY');
    expect(() => readSyncConfig(cwd, { [SYNC_CONFIG_FILE_ENV]: 'missing.json' })).toThrow(
      /OMNIHUB_SYNC_CONFIG_FILE: .*missing\.json does not exist/,
    );
  });

  it('falls back to the defaults with no file and no variable', () => {
    const cwd = directoryWithFile('unrelated.json', {});

    expect(readSyncConfig(cwd, {})).toMatchObject({ destinations: {}, reportingCurrency: 'USD' });
  });
});
