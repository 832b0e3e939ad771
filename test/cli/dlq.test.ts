/**
 * `omnihub dlq`: which consumer a destination names, from the connector registry (every connector with
 * an outbound part), not from a list of its own. The queue work itself runs against a real local hub
 * in test/sync/local-hub.test.ts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { consumerIdOf, SYNC_DESTINATIONS } from '../../cli/commands/dlq.ts';
import { main } from '../../cli/main.ts';
import { connectors } from '../../connectors/index.ts';

function collect(): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (text) => out.push(text), err: (text) => err.push(text), interactive: false, env: {} },
    out,
    err,
  };
}

const withOutbound = Object.values(connectors)
  .filter((connector) => connector.outbound)
  .map((connector) => connector.id);
const withoutOutbound = Object.values(connectors)
  .filter((connector) => !connector.outbound)
  .map((connector) => connector.id);

describe('CLI: dlq destinations', () => {
  /** A hub whose /health lists one consumer, so the command's lookup is seen from outside. */
  let server: Server;
  let api = '';
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ region: 'us-east-1', consumers: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('are the registered connectors with an outbound part', () => {
    expect(withOutbound.length).toBeGreaterThan(0);
    expect(SYNC_DESTINATIONS).toEqual(withOutbound);
  });

  it.each(withOutbound)('%s names the consumer sync-%s', async (id) => {
    expect(consumerIdOf(id)).toBe(`sync-${id}`);
    const { io, err } = collect();
    expect(await main(['dlq', 'list', id, '--api', api], io)).toBe(2);
    expect(err.join('\n')).toContain(`the hub has no consumer sync-${id}`);
  });

  it.each([...withoutOutbound, 'profile-writer', 'sync-hubspot'])(
    '%s is taken as a consumer id',
    (target) => {
      expect(consumerIdOf(target)).toBe(target);
    },
  );

  it('lists every destination in its help', async () => {
    const { io, out } = collect();
    expect(await main(['dlq', '--help'], io)).toBe(0);
    const destinations = /<destination> is (.+?) \(the consumer/s.exec(out.join('\n'))?.[1];
    expect(destinations?.split(/, | or /)).toEqual(withOutbound);
  });
});
