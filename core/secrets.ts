/**
 * Where a function finds its secrets. In AWS each connector has one Secrets Manager secret (a JSON
 * object keyed by the secret names the connector declares) whose ARN is in `OMNIHUB_SECRET_ARN`; it is
 * read once per container, cached, and re-read when a signature fails to verify (so rotation works
 * without a redeploy). Without an ARN the values come from the environment under the same names.
 */

import { AwsJsonClient, SECRETS_MANAGER } from './aws/json-client.ts';
import { RetryableError } from './errors.ts';

export interface SecretSource {
  /** Values for the given names; a name that is not configured is absent. */
  load(names: readonly string[]): Promise<Partial<Record<string, string>>>;
  /**
   * Drops the cached values so the next `load` reads them again. Returns false when a refresh
   * happened too recently (bad signatures must not turn into a flood of Secrets Manager calls).
   */
  refresh(): boolean;
}

export class EnvironmentSecretSource implements SecretSource {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}
  async load(names: readonly string[]): Promise<Partial<Record<string, string>>> {
    const values: Partial<Record<string, string>> = {};
    for (const name of names) {
      const value = this.env[name];
      if (value !== undefined && value !== '') values[name] = value;
    }
    return values;
  }
  refresh(): boolean {
    return true; // the environment is always current
  }
}

/** Minimum time between two forced re-reads of the secret. */
const REFRESH_INTERVAL_MS = 30_000;

export class SecretsManagerSecretSource implements SecretSource {
  #cached: Promise<Record<string, unknown>> | undefined;
  #lastRead = 0;

  constructor(
    private readonly secretArn: string,
    private readonly now: () => number = Date.now,
  ) {}

  async load(names: readonly string[]): Promise<Partial<Record<string, string>>> {
    this.#cached ??= this.#read();
    let secret: Record<string, unknown>;
    try {
      secret = await this.#cached;
    } catch (error) {
      this.#cached = undefined;
      throw new RetryableError('could not read the connector secret', 503, 'secret_unavailable', {
        cause: error,
      });
    }
    const values: Partial<Record<string, string>> = {};
    for (const name of names) {
      const value = secret[name];
      if (typeof value === 'string' && value !== '') values[name] = value;
    }
    return values;
  }

  refresh(): boolean {
    if (this.now() - this.#lastRead < REFRESH_INTERVAL_MS) return false;
    this.#cached = undefined;
    return true;
  }

  async #read(): Promise<Record<string, unknown>> {
    this.#lastRead = this.now();
    // One JSON-protocol call; the SDK client would cost the ingest bundle more than the rest of it.
    const result = await new AwsJsonClient(SECRETS_MANAGER).call<{ SecretString?: string }>(
      'GetSecretValue',
      {
        SecretId: this.secretArn,
      },
    );
    const parsed: unknown = JSON.parse(result.SecretString ?? '{}');
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  }
}

/** The source this function should use, from its environment. */
export function secretSourceFromEnvironment(env: NodeJS.ProcessEnv = process.env): SecretSource {
  const arn = env.OMNIHUB_SECRET_ARN;
  return arn ? new SecretsManagerSecretSource(arn) : new EnvironmentSecretSource(env);
}
