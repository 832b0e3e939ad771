/**
 * `npm run demo -- --exit` (and the demo with its stdout piped, as here) ends by itself: once the
 * profiles are printed the demo stops its hub, and the hub's `stop()` must leave nothing behind that
 * keeps the process alive (a worker thread, a socket, a timer). Run as a child process, as a user or
 * a CI job runs it, on a port of its own so a hub already serving on 3000 is not used instead.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../demo/ports.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The whole demo on a slow, shared 2-core machine: start the hub, post, drain, print, stop. */
const RUN_LIMIT_MS = 60_000;
/** Between the demo's last line and the process ending: stopping the hub and nothing else. */
const EXIT_AFTER_OUTPUT_MS = 10_000;
const LAST_LINE = /\/local\/events\?limit=50'/;

interface DemoExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from the demo's last line to the process's exit. */
  readonly exitAfterOutputMs: number;
}

/** Runs the demo; rejects with what it printed when it has not exited by itself within the limit. */
async function runDemo(args: readonly string[], port: number): Promise<DemoExit> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_') || name.startsWith('OMNIHUB_')) delete env[name];
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
    cwd: REPOSITORY_ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let printedAt: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (printedAt === undefined && LAST_LINE.test(stdout)) printedAt = Date.now();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the demo did not exit within ${RUN_LIMIT_MS / 1000} s (${printedAt ? 'it had printed everything' : 'it had not finished printing'}).\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, RUN_LIMIT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        exitAfterOutputMs: printedAt === undefined ? Number.NaN : Date.now() - printedAt,
      });
    });
  });
}

describe('Demo: npm run demo -- --exit', () => {
  it('prints the profiles, stops its hub and exits by itself with code 0', {
    timeout: RUN_LIMIT_MS + 10_000,
  }, async () => {
    const port = await freePort();
    const run = await runDemo(['--exit'], port);
    const printed = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect({ code: run.code, signal: run.signal }, printed).toEqual({ code: 0, signal: null });
    expect(run.stdout).toContain(`Started a local hub at http://127.0.0.1:${port} (data: :memory:)`);
    expect(run.stdout).toContain('(28/28 webhooks accepted)');
    expect(run.stdout).toContain('✓ Every profile matches the journey’s expected truth');
    expect(run.exitAfterOutputMs, printed).toBeLessThan(EXIT_AFTER_OUTPUT_MS);
  });
});
