/**
 * `omnihub replay`: usage errors (exit 2), the mapping of `--type` to consumer rules, and the
 * progress display, against a real local hub with the repository's topology.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { consumerOfRule, parseInstant, ruleTakesType } from '../../cli/commands/replay.ts';
import { main } from '../../cli/main.ts';
import { type LocalHub, startLocalHub } from '../../local/hub.ts';
import { clearAwsAndOmnihubEnvironment } from '../local/support/environment.ts';

let hub: LocalHub;

function collector(interactive = false): CliIo & { readonly stdout: string[]; readonly stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    out: (text) => stdout.push(text),
    err: (text) => stderr.push(text),
    interactive,
    env: {},
    stdout,
    stderr,
  };
}

beforeAll(async () => {
  clearAwsAndOmnihubEnvironment();
  hub = await startLocalHub({ port: 0, dataDir: ':memory:', log: () => {} });
});

afterAll(async () => hub?.stop());

describe('CLI: replay usage', () => {
  it.each([
    [['--to', '2025-06-02'], '--from is required'],
    [['--from', '2025-06-01T09:00:00'], '--from must be an ISO 8601 date'],
    [['--from', 'yesterday'], '--from must be an ISO 8601 date'],
    [['--from', '2025-06-02', '--to', '2025-06-01'], 'must be before --to'],
    [['--from', '2025-06-01', '--type', 'order.completed'], 'unknown event type order.completed'],
    [['--from', '2025-06-01', '--name', 'has space'], '--name takes 1 to 64 letters'],
    [['--from', '2025-06-01', '--aws', '--api', 'http://127.0.0.1:1'], '--api and --aws exclude each other'],
    [['--from', '2025-06-01', '--bogus'], "Unknown option '--bogus'"],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const io = collector();
    expect(await main(['replay', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stderr.join('\n')).toContain('Usage:');
  });

  it('names an unknown consumer with the ones the bus has', async () => {
    const io = collector();
    expect(await main(['replay', '--from', '2025-06-01', '--consumer', 'ghost', '--api', hub.url], io)).toBe(
      2,
    );
    expect(io.stderr.join('\n')).toContain('the bus has no consumer ghost (it has: profile-writer, sync-');
  });

  it('says when the hub cannot be reached', async () => {
    const io = collector();
    expect(await main(['replay', '--from', '2025-06-01', '--api', 'http://127.0.0.1:9'], io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('cannot reach the hub at http://127.0.0.1:9');
  });

  it('reads dates as UTC midnight and keeps the zone of date-times', () => {
    expect(parseInstant('2025-06-01', '--from').toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(parseInstant('2025-06-01T09:00:00+02:00', '--from').toISOString()).toBe(
      '2025-06-01T07:00:00.000Z',
    );
  });
});

describe('CLI: replay --type picks the consumer rules that take the type', () => {
  it.each([
    ['order.placed', ['profile-writer']],
    ['customer.upserted', ['profile-writer']],
    ['profile.updated', ['sync-hubspot', 'sync-sendgrid', 'sync-shopify', 'sync-square']],
  ])('%s goes to %j', (type, consumers) => {
    const chosen = hub.topology.consumers
      .filter((consumer) => ruleTakesType(JSON.stringify(consumer.pattern), type))
      .map((consumer) => consumer.id)
      .sort();
    expect(chosen).toEqual(consumers);
  });

  it('keeps $or alternatives and drops conditions on detail', () => {
    const pattern = JSON.stringify({
      source: ['omnihub.profiles'],
      $or: [
        { 'detail-type': ['profile.updated'], detail: { data: { x: ['y'] } } },
        { 'detail-type': ['profile.merged'] },
      ],
    });
    expect(ruleTakesType(pattern, 'profile.updated')).toBe(true);
    expect(ruleTakesType(pattern, 'profile.merged')).toBe(true);
    expect(ruleTakesType(pattern, 'profile.erased')).toBe(false);
    expect(ruleTakesType(JSON.stringify({ source: ['aws.s3'] }), 'order.placed')).toBe(false);
  });

  it('finds a consumer by rule name locally and by description in AWS', () => {
    const [first] = hub.topology.consumers;
    expect(consumerOfRule({ Name: first?.id }, hub.topology.consumers)?.id).toBe(first?.id);
    expect(
      consumerOfRule(
        { Name: 'Omnihub-prod-HubConsumersRule-1A2B', Description: first?.description },
        hub.topology.consumers,
      )?.id,
    ).toBe(first?.id);
    expect(
      consumerOfRule({ Name: 'analytics', Description: 'Every canonical event to the analytics stream.' }),
    ).toBe(undefined);
  });

  it('replays only to the chosen rules and says that every event in the window goes to them', async () => {
    const io = collector(true);
    const code = await main(
      [
        'replay',
        '--from',
        '2025-06-01',
        '--type',
        'profile.merged',
        '--name',
        'merged-only',
        '--api',
        hub.url,
      ],
      io,
    );
    expect(code).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('to sync-hubspot, sync-sendgrid, sync-shopify, sync-square');
    expect(text).toContain(
      'EventBridge cannot filter a replay by type; every event in the window is replayed',
    );
    expect(text).toContain('Replay merged-only COMPLETED');
    // On a terminal the progress is a bar.
    const redraw = '\u001b[1A\u001b[2K';
    const last = io.stderr.at(-1) ?? '';
    expect(last.startsWith(redraw) ? last.slice(redraw.length) : last).toMatch(/^\[#{30}\] 100% COMPLETED/);
  });
});
