/**
 * A connector is one folder: its Lambda entries live in it, at the paths the topology derives from its
 * id (`connectors/<id>/handler.ts` for ingest, `connectors/<id>/sync.ts` for the sync consumer when it
 * has an outbound part). A missing or misnamed entry fails here, not at `cdk synth` or deploy.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectors } from '../../connectors/index.ts';
import { SyncConfig } from '../../core/sync/config.ts';
import { ingestRoute, syncConsumer } from '../../lib/topology.ts';

const ROOT = new URL('../../', import.meta.url);
const all = Object.values(connectors);
const withOutbound = all.filter((connector) => connector.outbound);

/** Repository-relative paths of every module of ours an entry loads (static relative imports). */
function modulesOf(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [new URL(entry, ROOT)];
  for (let url = pending.pop(); url; url = pending.pop()) {
    const path = relative(fileURLToPath(ROOT), fileURLToPath(url));
    if (seen.has(path)) continue;
    seen.add(path);
    const source = readFileSync(url, 'utf8');
    for (const [, specifier] of source.matchAll(/^(?:import|export)\s(?:[^;']*?\sfrom\s+)?'(\.[^']+)'/gm))
      if (specifier?.endsWith('.ts')) pending.push(new URL(specifier, url));
  }
  return [...seen].sort();
}

async function handlerOf(entry: string): Promise<unknown> {
  const module = (await import(new URL(entry, ROOT).href)) as { handler?: unknown };
  return module.handler;
}

describe('Connector entries', () => {
  it('registers every folder under connectors/ that has a definition', () => {
    const folders = readdirSync(new URL('connectors/', ROOT), { withFileTypes: true })
      .filter(
        (entry) => entry.isDirectory() && existsSync(new URL(`connectors/${entry.name}/index.ts`, ROOT)),
      )
      .map((entry) => entry.name)
      .sort();
    expect(Object.keys(connectors).sort()).toEqual(folders);
  });

  it.each(all.map((connector) => [connector.id, connector] as const))(
    '%s: the ingest entry exports a handler',
    async (id, connector) => {
      const { entry } = ingestRoute(connector);
      expect(entry).toBe(`connectors/${id}/handler.ts`);
      expect(existsSync(new URL(entry, ROOT)), `${entry} is missing`).toBe(true);
      expect(typeof (await handlerOf(entry))).toBe('function');
    },
  );

  it('finds connectors with an outbound part', () => {
    expect(withOutbound.map((connector) => connector.id)).toContain('hubspot');
  });

  it.each(withOutbound.map((connector) => [connector.id, connector] as const))(
    '%s: the sync entry exports a handler for this destination',
    async (id, connector) => {
      const { entry } = syncConsumer(connector, SyncConfig.parse({}));
      expect(entry).toBe(`connectors/${id}/sync.ts`);
      expect(existsSync(new URL(entry, ROOT)), `${entry} is missing`).toBe(true);
      expect(typeof (await handlerOf(entry))).toBe('function');
      // A sync entry copied from another connector's folder must not keep syncing that one.
      expect(readFileSync(new URL(entry, ROOT), 'utf8')).toContain(`syncHandler('${id}', `);
    },
  );

  it('has no sync entry without an outbound part (nothing would deploy it)', () => {
    const stray = all
      .filter((connector) => !connector.outbound)
      .map((connector) => `connectors/${connector.id}/sync.ts`)
      .filter((entry) => existsSync(new URL(entry, ROOT)));
    expect(stray).toEqual([]);
  });

  it.each(all.map((connector) => [connector.id, connector] as const))(
    '%s: what its Lambdas load comes from the hub, never from the tests or the fake vendor API',
    (_id, connector) => {
      const entries = [ingestRoute(connector).entry];
      if (connector.outbound) entries.push(syncConsumer(connector, SyncConfig.parse({})).entry);
      const loaded = entries.flatMap(modulesOf);
      expect(loaded).toContain(`connectors/${connector.id}/index.ts`);
      expect(loaded.filter((path) => path.startsWith('test/') || path.endsWith('fake-api.ts'))).toEqual([]);
    },
  );
});
