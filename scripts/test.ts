/**
 * `npm test`: runs vitest with its usual console output plus a JSON report, then prints the one line
 * CI reads, `N passed, N failed`, derived from the JSON report (not from vitest's own summary).
 * Extra arguments are passed to vitest (e.g. `npm test -- test/local`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const report = fileURLToPath(new URL('../.vitest-report.json', import.meta.url));
rmSync(report, { force: true });

const run = spawnSync(
  process.execPath,
  [
    fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url)),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TZ: 'UTC' } },
);

interface JsonReport {
  numPassedTests?: number;
  numFailedTests?: number;
  numPendingTests?: number;
  numTodoTests?: number;
  testResults?: Array<{ status?: string; assertionResults?: unknown[] }>;
}

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
  passed = parsed.numPassedTests ?? 0;
  failed = parsed.numFailedTests ?? 0;
  skipped = (parsed.numPendingTests ?? 0) + (parsed.numTodoTests ?? 0);
  // A test file that fails to load reports no tests at all; count each such file as a failure.
  failed += (parsed.testResults ?? []).filter(
    (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0,
  ).length;
} else {
  failed = 1;
}
const exitCode = run.status ?? 1;
if (exitCode !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || exitCode !== 0 ? 1 : 0);
