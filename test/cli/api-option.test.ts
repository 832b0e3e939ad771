/**
 * Every command names the hub it talks to the same way: `--api <url>`, else `OMNIHUB_API_URL`, else
 * the local hub on `http://127.0.0.1:${PORT:-3000}`; `--hub`, the old name in export and sql, still
 * works with a warning.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { commands } from '../../cli/commands/index.ts';
import { API_HELP, apiUrl } from '../../cli/hub-client.ts';
import { main } from '../../cli/main.ts';

function collect(env: NodeJS.ProcessEnv = {}): { io: CliIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (text) => out.push(text), err: (text) => err.push(text), interactive: false, env },
    out,
    err,
  };
}

describe('CLI: the hub a command talks to', () => {
  it.each([
    [{ api: 'http://a.example' }, { OMNIHUB_API_URL: 'http://b.example', PORT: '4000' }, 'http://a.example'],
    [{}, { OMNIHUB_API_URL: 'http://b.example', PORT: '4000' }, 'http://b.example'],
    [{}, { PORT: '4000' }, 'http://127.0.0.1:4000'],
    [{}, {}, 'http://127.0.0.1:3000'],
  ])('%j with %j is %s', (values, env, expected) => {
    const { io, err } = collect(env);
    expect(apiUrl(values, io)).toBe(expected);
    expect(err).toEqual([]);
  });

  it('takes the old --hub with a warning, and refuses it beside --api', () => {
    const { io, err } = collect();
    expect(apiUrl({ hub: 'http://127.0.0.1:9' }, io)).toBe('http://127.0.0.1:9');
    expect(err).toEqual(['warning: --hub is deprecated, use --api']);
    expect(() => apiUrl({ hub: 'http://127.0.0.1:9', api: 'http://127.0.0.1:8' }, io)).toThrow(
      '--hub is the old name of --api',
    );
  });

  it('is documented once in the overall help', async () => {
    const { io, out } = collect();
    expect(await main(['help'], io)).toBe(0);
    expect(out.join('\n')).toContain('the hub at --api <url>, else OMNIHUB_API_URL, else the local hub');
  });

  it.each(commands.map((command) => [command.name]))(
    '%s documents --api alike, and no --hub',
    async (name) => {
      const { io, out } = collect();
      expect(await main([name, '--help'], io)).toBe(0);
      const usage = out.join('\n');
      expect(usage).toMatch(new RegExp(`--api <url> +${API_HELP.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(usage).not.toContain('--hub');
    },
  );

  describe('on the command line', () => {
    let server: Server;
    let url = '';
    const asked: string[] = [];
    beforeAll(async () => {
      server = createServer((request, response) => {
        asked.push(`${request.method} ${request.url}`);
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'profile_not_found', message: 'no such profile' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it.each([
      ['--api', (hub: URL) => ({ flags: ['--api', hub.origin], env: { PORT: '9' } })],
      ['OMNIHUB_API_URL', (hub: URL) => ({ flags: [], env: { OMNIHUB_API_URL: hub.origin, PORT: '9' } })],
      ['PORT', (hub: URL) => ({ flags: [], env: { PORT: hub.port } })],
    ])('profile get finds the hub by %s', async (_by, given) => {
      const { flags, env } = given(new URL(url));
      const { io, err } = collect(env);
      asked.length = 0;
      expect(await main(['profile', 'get', '--id', 'p_x', ...flags], io)).toBe(1);
      expect(asked).toEqual(['GET /profiles/p_x']);
      expect(err.join('\n')).toContain('profile_not_found: no such profile');
    });

    it('the old --hub still reaches it, with a warning', async () => {
      const { io, err } = collect();
      asked.length = 0;
      expect(await main(['profile', 'get', '--id', 'p_x', '--hub', url], io)).toBe(1);
      expect(asked).toEqual(['GET /profiles/p_x']);
      expect(err[0]).toBe('warning: --hub is deprecated, use --api');
    });
  });
});
