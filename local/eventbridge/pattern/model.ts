/**
 * What the pattern modules share: the error AWS answers for a pattern it refuses, and the compiled
 * shapes a pattern becomes (alternatives of dotted path -> compiled value list).
 */

export type JsonObject = Record<string, unknown>;
export type Scalar = string | number | boolean | null;
/** Whether one leaf value of an event (a string, number, boolean or null) satisfies a matcher. */
export type ScalarTest = (value: Scalar) => boolean;

/** A field's value list, compiled: the field matches if any entry does. */
export interface CompiledLeaf {
  readonly existsTrue: boolean;
  readonly existsFalse: boolean;
  /** Whether one leaf value satisfies any value-level entry; undefined when the list has none. */
  readonly test: ScalarTest | undefined;
  /** The plain `wildcard` operands, kept for AWS's rule-complexity check. */
  readonly wildcards: readonly string[];
}

/** One `$or`-free branch of a pattern: every path must match. Keys are dotted paths. */
export type Alternative = Map<string, CompiledLeaf>;

/**
 * Thrown for any pattern AWS would refuse with `InvalidEventPatternException`. `message` reads like the
 * service's; `reason` is the part after "Reason: ", which is Event Ruler's wording.
 */
export class InvalidEventPatternError extends Error {
  readonly code = 'InvalidEventPatternException';
  readonly reason: string;

  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = 'InvalidEventPatternError';
    this.reason = reason;
  }
}

export function invalid(reason: string): InvalidEventPatternError {
  return new InvalidEventPatternError(reason);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
