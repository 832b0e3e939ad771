/**
 * The local hub's own log lines. Webhook bodies, SQS bodies and event details carry personal data,
 * so the hub never logs them, and every line still passes through {@link redactPersonalData} because
 * error messages thrown by handlers may quote what they rejected ("invalid email ana@example.com").
 */

/** Where log lines go; tests pass their own sink to assert on what was written. */
export type LogSink = (line: string) => void;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu;

// A run of digits with the separators people write phone numbers with. The look-arounds stop a match
// inside longer tokens (UUIDs, ISO dates, hex ids), where the run touches a letter or a dash.
const PHONE_CANDIDATE = /(?<![\w-])\+?\(?\d[\d ().-]{5,}\d(?![\w-])/g;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Replaces email addresses and phone-number-like digit runs (7 to 15 digits, E.164's maximum) with
 * placeholders. Over-redaction is acceptable; a leak is not.
 *
 * @example
 * redactPersonalData('bounce for ana@example.com, +1 (555) 010-9999'); // 'bounce for [email], [phone]'
 */
export function redactPersonalData(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE_CANDIDATE, (candidate) => {
    if (IPV4.test(candidate)) return candidate;
    const digits = candidate.replace(/\D/g, '').length;
    return digits >= 7 && digits <= 15 ? '[phone]' : candidate;
  });
}

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
