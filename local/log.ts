/**
 * The local hub's own log lines. Webhook bodies, SQS bodies and event details carry personal data,
 * so the hub never logs them, and every line still passes through {@link redactPersonalData} because
 * error messages thrown by handlers may quote what they rejected ("invalid email ana@example.com").
 */

import { redactPersonalData } from '../core/redact.ts';

// The hub's lines and the functions' Powertools lines share one redactor; re-exported for callers of
// this module.
export { redactPersonalData };

/** Where log lines go; tests pass their own sink to assert on what was written. */
export type LogSink = (line: string) => void;

/** A small line logger: `[scope] message`, redacted, to a sink (stderr by default). */
export class HubLogger {
  constructor(
    private readonly sink: LogSink = (line) => process.stderr.write(`${line}\n`),
    private readonly scope = 'hub',
  ) {}

  /** A logger that prefixes lines with another scope, e.g. a consumer id. */
  child(scope: string): HubLogger {
    return new HubLogger(this.sink, scope);
  }

  info(message: string): void {
    this.sink(redactPersonalData(`[${this.scope}] ${message}`));
  }

  warn(message: string): void {
    this.sink(redactPersonalData(`[${this.scope}] warning: ${message}`));
  }

  error(message: string): void {
    this.sink(redactPersonalData(`[${this.scope}] error: ${message}`));
  }
}

/** The message of an unknown thrown value, without its stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
