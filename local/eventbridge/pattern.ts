/**
 * EventBridge event-pattern validation and matching that agrees with AWS.
 *
 * AWS evaluates patterns with Event Ruler (github.com/aws/event-ruler), and this module follows its model
 * rather than a naive "walk the pattern and the event side by side" reading, because the two disagree in
 * ways real rules hit:
 *
 * - A pattern is a set of dotted *paths*: `{"a": {"b": [..]}}` and `{"a.b": [..]}` are the same rule, and
 *   both match an event written either as `{"a": {"b": ..}}` or as `{"a.b": ..}`.
 * - `$or` is expanded at compile time into alternatives (disjunctive normal form). Each alternative is a
 *   map from path to value list, and a later write to a path replaces an earlier one, exactly like a
 *   duplicate JSON key.
 * - Value-level operators only ever see leaves (strings, numbers, booleans, null). An array in the event is
 *   flattened: the field matches if any element does. Objects under arrays are matched array-consistently:
 *   two fields of one pattern object must come from the same array element.
 *
 * The conformance cases in `test/conformance/eventbridge-patterns/` (checked by AWS's TestEventPattern)
 * pin the behaviour down; the error texts are Event Ruler's, which AWS returns verbatim after
 * "Event pattern is not valid. Reason: ".
 *
 * This module is the public face; the work is done in `pattern/`: `alternatives.ts` (objects and `$or`
 * into alternatives), `values.ts` (value lists and match expressions, with `numeric.ts`,
 * `case-folding.ts`, `wildcard.ts` and `ip-address.ts` for the operators that need more than a line)
 * and `matcher.ts` (the compiled predicate).
 */
import { compileAlternatives, parsePatternText } from './pattern/alternatives.ts';
import { compileMatcher } from './pattern/matcher.ts';

export { InvalidEventPatternError } from './pattern/model.ts';

/** A parsed EventBridge event pattern (the JSON object given to PutRule or TestEventPattern). */
export type EventPattern = Record<string, unknown>;

/** A compiled pattern: answers whether one parsed event (a JSON value) matches. */
export type EventPatternPredicate = (event: unknown) => boolean;

/**
 * Validates a pattern as AWS's PutRule/TestEventPattern would, throwing {@link InvalidEventPatternError}
 * with AWS's reason for the first problem found.
 *
 * @param pattern - The parsed pattern object. JSON text is refused here (it is not an object); pass it
 *   to {@link compileEventPattern}, which parses it.
 */
export function validateEventPattern(pattern: unknown): asserts pattern is EventPattern {
  compileAlternatives(pattern);
}

/**
 * Validates and compiles a pattern once, returning a predicate to run against many events. Matching does
 * no parsing or serialisation, and reuses its working arrays from one event to the next.
 *
 * @param pattern - The parsed pattern object, or its JSON text (as the AWS API takes it). With duplicate
 *   keys in the text the last occurrence wins, as on AWS.
 * @returns A predicate over a parsed event (any JSON value; a non-object matches only `exists: false`).
 * @throws InvalidEventPatternError when AWS would reject the pattern.
 */
export function compileEventPattern(pattern: unknown): EventPatternPredicate {
  const root = typeof pattern === 'string' ? parsePatternText(pattern) : pattern;
  return compileMatcher(compileAlternatives(root));
}

/**
 * Convenience for one-off checks: compiles `pattern` and matches `event` against it. Prefer
 * {@link compileEventPattern} when the same pattern meets many events.
 *
 * @throws InvalidEventPatternError when AWS would reject the pattern.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return compileEventPattern(pattern)(event);
}
