/**
 * The process environment the hub prepares for the handlers it runs in-process. Handlers find their
 * resources exactly as in Lambda, from env vars; the hub only fills in the ones the user did not set
 * and restores everything it changed when it stops.
 */

/** Whether an env var has a usable value (an empty string counts as unset, as the SDK treats it). */
export function isEnvSet(name: string): boolean {
  const value = process.env[name];
  return value !== undefined && value !== '';
}

/** Records every change to `process.env` so {@link restore} can undo them. */
export class HubEnvironment {
  private readonly previous = new Map<string, string | undefined>();

  /** Sets a variable, whatever it was. */
  set(name: string, value: string): void {
    if (!this.previous.has(name)) this.previous.set(name, process.env[name]);
    process.env[name] = value;
  }

  /** Sets a variable only when it is not set yet; returns whether the hub's value is now in effect. */
  setDefault(name: string, value: string): boolean {
    if (isEnvSet(name)) return process.env[name] === value;
    this.set(name, value);
    return true;
  }

  /** Puts back every variable the hub changed. */
  restore(): void {
    for (const [name, value] of this.previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.previous.clear();
  }
}
