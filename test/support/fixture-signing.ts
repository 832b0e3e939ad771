/**
 * The loop every connector's `fixtures/sign.ts` shares: walk the folder's `*.json` fixtures, let the
 * connector re-sign each one as its vendor would, and rewrite the files whose signature changed.
 * With `--check` nothing is written and the process exits 1 when a fixture is stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { WebhookFixture } from './ingest.ts';

/**
 * Re-signs every fixture in `folder`. `resign` returns the fixture as the vendor would send it, or
 * undefined to leave it as it is (e.g. a signature that already verifies).
 *
 * @example
 * resignFixtures(new URL('./', import.meta.url), (fixture) => withSignature(fixture));
 */
export function resignFixtures(
  folder: URL,
  resign: (fixture: WebhookFixture, file: string) => WebhookFixture | undefined,
  argv: readonly string[] = process.argv,
): void {
  const check = argv.includes('--check');
  const stale: string[] = [];
  for (const file of readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort()) {
    const url = new URL(file, folder);
    const text = readFileSync(url, 'utf8');
    const signed = resign(JSON.parse(text) as WebhookFixture, file);
    if (signed === undefined) continue;
    const updated = `${JSON.stringify(signed, null, 2)}\n`;
    if (updated === text) continue;
    stale.push(file);
    if (!check) writeFileSync(url, updated);
  }
  process.stdout.write(
    stale.length === 0
      ? 'all fixture signatures are current\n'
      : `${check ? 'stale' : 're-signed'}: ${stale.join(', ')}\n`,
  );
  if (check && stale.length > 0) process.exitCode = 1;
}

/** A request header of a fixture whatever its case, with the name it is stored under. */
export function fixtureHeader(
  fixture: WebhookFixture,
  name: string,
): { key: string; value: string } | undefined {
  const lower = name.toLowerCase();
  const key = Object.keys(fixture.request.headers).find((candidate) => candidate.toLowerCase() === lower);
  const value = key === undefined ? undefined : fixture.request.headers[key];
  return key === undefined || value === undefined ? undefined : { key, value };
}

/** The fixture with one request header set (or removed, with `undefined`). */
export function withHeader(fixture: WebhookFixture, name: string, value: string | undefined): WebhookFixture {
  const headers = { ...fixture.request.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...fixture, request: { ...fixture.request, headers } };
}
