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
 */

/** A parsed EventBridge event pattern (the JSON object given to PutRule or TestEventPattern). */
export type EventPattern = Record<string, unknown>;

/** A compiled pattern: answers whether one parsed event (a JSON value) matches. */
export type EventPatternPredicate = (event: unknown) => boolean;

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
  const alternatives = compileAlternatives(root).map((alternative) =>
    compileNode(buildPathTrie(alternative), []),
  );
  const matchesAny = (stack: ContextStack): boolean => {
    for (const alternative of alternatives) {
      if (alternative(stack)) return true;
    }
    return false;
  };
  // One stack serves every event this predicate sees. The flag covers re-entry (an event getter that
  // matches another event against the same predicate), which gets a fresh stack instead.
  const scratch: ContextStack = { sources: [], depths: [] };
  let scratchInUse = false;
  return (event) => {
    if (!isJsonObject(event)) return matchesAny({ sources: [], depths: [] });
    if (scratchInUse) return matchesAny({ sources: [event], depths: [0] });
    scratchInUse = true;
    scratch.sources.push(event);
    scratch.depths.push(0);
    try {
      return matchesAny(scratch);
    } finally {
      truncate(scratch, 0);
      scratchInUse = false;
    }
  };
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

// ---------------------------------------------------------------------------------------------------------
// Pattern compilation: objects and `$or` into alternatives of path -> compiled value list
// ---------------------------------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;
type Scalar = string | number | boolean | null;
type ScalarTest = (value: Scalar) => boolean;

/** One `$or`-free branch of a pattern: every path must match. Keys are dotted paths. */
type Alternative = Map<string, CompiledLeaf>;

/** A field's value list, compiled: the field matches if any entry does. */
interface CompiledLeaf {
  readonly existsTrue: boolean;
  readonly existsFalse: boolean;
  /** Whether one leaf value satisfies any value-level entry; undefined when the list has none. */
  readonly test: ScalarTest | undefined;
  /** The plain `wildcard` operands, kept for AWS's rule-complexity check. */
  readonly wildcards: readonly string[];
}

const OR_KEY = '$or';

/**
 * Inside a `$or` branch Event Ruler refuses these as field names (operators, plus names it keeps for
 * future ones), so that a legacy pattern using "$or" as an ordinary field still compiles via the fallback.
 */
const RESERVED_INSIDE_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);

/** Guards recursion on hostile input; no real pattern comes near (AWS caps pattern text at a few KB). */
const MAX_PATTERN_DEPTH = 256;
/** Guards the `$or` expansion, which multiplies: nested `$or`s could otherwise explode at compile time. */
const MAX_ALTERNATIVES = 1000;

interface AlternativeSet {
  rules: Alternative[];
}

interface WalkOptions {
  readonly orAware: boolean;
  readonly insideOr: boolean;
  readonly depth: number;
}

function invalid(reason: string): InvalidEventPatternError {
  return new InvalidEventPatternError(reason);
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parsePatternText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(
      `Event pattern is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function compileAlternatives(pattern: unknown): Alternative[] {
  if (!isJsonObject(pattern)) throw invalid('Filter is not an object');
  let alternatives: Alternative[];
  try {
    alternatives = expandAlternatives(pattern, true);
  } catch (error) {
    // AWS keeps patterns that used "$or" as a plain field name working: when the `$or`-aware reading fails,
    // it retries with "$or" as an ordinary key. If that fails too, the `$or` reading's reason is the one
    // that explains the mistake.
    if (!(error instanceof InvalidEventPatternError) || !containsOrKey(pattern, 0)) throw error;
    try {
      alternatives = expandAlternatives(pattern, false);
    } catch {
      throw error;
    }
  }
  checkWildcardComplexity(alternatives);
  return alternatives;
}

function containsOrKey(value: unknown, depth: number): boolean {
  if (depth > MAX_PATTERN_DEPTH) return false;
  if (Array.isArray(value)) return value.some((item) => containsOrKey(item, depth + 1));
  if (!isJsonObject(value)) return false;
  return Object.keys(value).some((key) => key === OR_KEY || containsOrKey(value[key], depth + 1));
}

function expandAlternatives(pattern: JsonObject, orAware: boolean): Alternative[] {
  const set: AlternativeSet = { rules: [] };
  walkObject(set, [], pattern, { orAware, insideOr: false, depth: 0 });
  return set.rules;
}

function walkObject(
  set: AlternativeSet,
  path: readonly string[],
  object: JsonObject,
  options: WalkOptions,
): void {
  if (options.depth > MAX_PATTERN_DEPTH) throw invalid('Event pattern is nested too deeply');
  const keys = Object.keys(object);
  if (keys.length === 0) throw invalid('Empty objects are not allowed');
  // Document order decides which of two writes to one path survives. Object.keys keeps it, except that it
  // lists integer-like names first; only a path spelled both nested and dotted could notice.
  for (const key of keys) {
    const value = object[key];
    if (options.orAware && key === OR_KEY) {
      walkOr(set, path, value, options);
      continue;
    }
    if (options.insideOr && RESERVED_INSIDE_OR.has(key)) {
      throw invalid(`${key} is Ruler reserved fieldName which cannot be used inside ${OR_KEY}.`);
    }
    if (isJsonObject(value)) {
      walkObject(set, [...path, key], value, { ...options, depth: options.depth + 1 });
    } else if (Array.isArray(value)) {
      writeLeaf(set, [...path, key].join('.'), compileLeaf(value));
    } else {
      throw invalid(`"${key}" must be an object or an array`);
    }
  }
}

/**
 * Forks every alternative built so far once per `$or` member, as Event Ruler does. Because a member writes
 * into copies of the earlier alternatives, a path set both before and inside a `$or` keeps the later value.
 */
function walkOr(set: AlternativeSet, path: readonly string[], members: unknown, options: WalkOptions): void {
  if (!Array.isArray(members)) throw invalid(`It must be an Array followed with ${OR_KEY}.`);
  const before = set.rules;
  set.rules = [];
  for (const member of members) {
    if (!isJsonObject(member)) {
      throw invalid(`Only JSON object is allowed in array of ${OR_KEY} relationship.`);
    }
    const branch: AlternativeSet = {
      rules: before.length > 0 ? before.map((rule) => new Map(rule)) : [new Map()],
    };
    walkObject(branch, path, member, { orAware: true, insideOr: true, depth: options.depth + 1 });
    set.rules.push(...branch.rules);
    if (set.rules.length > MAX_ALTERNATIVES) {
      throw invalid(`Event pattern expands to more than ${MAX_ALTERNATIVES} ${OR_KEY} combinations`);
    }
  }
  if (members.length < 2) throw invalid(`There must have at least 2 Objects in ${OR_KEY} relationship.`);
}

function writeLeaf(set: AlternativeSet, path: string, leaf: CompiledLeaf): void {
  if (set.rules.length === 0) set.rules.push(new Map());
  for (const rule of set.rules) rule.set(path, leaf);
}

// ---------------------------------------------------------------------------------------------------------
// Value lists and match expressions
// ---------------------------------------------------------------------------------------------------------

type MatchExpression =
  | { readonly kind: 'exists'; readonly present: boolean }
  | { readonly kind: 'test'; readonly test: ScalarTest; readonly wildcard?: string };

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function compileLeaf(values: readonly unknown[]): CompiledLeaf {
  if (values.length === 0) throw invalid('Empty arrays are not allowed');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const ipLiterals: Uint8Array[] = [];
  const operators: ScalarTest[] = [];
  const wildcards: string[] = [];
  let matchTrue = false;
  let matchFalse = false;
  let matchNull = false;
  let existsTrue = false;
  let existsFalse = false;

  for (const value of values) {
    if (typeof value === 'string') {
      strings.add(value);
      // Event Ruler turns a value that parses as an IP address into an address match, so "10.0.0.1" also
      // matches an event's "10.000.0.1" and IPv6 text matches its other spellings.
      const address = parseIpAddress(value);
      if (address !== undefined) ipLiterals.push(address);
    } else if (isFiniteNumber(value)) {
      // Numbers match by value, not by their JSON text: 300, 300.0 and 3.0e2 are one number.
      numbers.add(value);
    } else if (value === true) {
      matchTrue = true;
    } else if (value === false) {
      matchFalse = true;
    } else if (value === null) {
      matchNull = true;
    } else if (isJsonObject(value)) {
      const expression = compileMatchExpression(value);
      if (expression.kind === 'exists') {
        if (expression.present) existsTrue = true;
        else existsFalse = true;
      } else {
        operators.push(expression.test);
        if (expression.wildcard !== undefined) wildcards.push(expression.wildcard);
      }
    } else {
      throw invalid('Match value must be String, number, true, false, or null');
    }
  }

  const hasLiterals = strings.size > 0 || numbers.size > 0 || matchTrue || matchFalse || matchNull;
  const test: ScalarTest | undefined =
    !hasLiterals && operators.length === 0
      ? undefined
      : (value) => {
          switch (typeof value) {
            case 'string':
              if (strings.has(value)) return true;
              if (ipLiterals.length > 0 && matchesAnyAddress(value, ipLiterals)) return true;
              break;
            case 'number':
              if (numbers.has(value)) return true;
              break;
            case 'boolean':
              if (value ? matchTrue : matchFalse) return true;
              break;
            default:
              if (matchNull) return true;
          }
          for (const operator of operators) {
            if (operator(value)) return true;
          }
          return false;
        };
  return { existsTrue, existsFalse, test, wildcards };
}

function compileMatchExpression(expression: JsonObject): MatchExpression {
  const keys = Object.keys(expression);
  const name = keys[0];
  if (name === undefined) throw invalid('Match expression name not found');
  // The operand is checked before the key count because Event Ruler reads it first; for `numeric` and
  // `anything-but` the extra key then trips a different guard, hence the odd message.
  const compiled = compileOperator(name, expression[name]);
  if (keys.length > 1) {
    throw invalid(
      name === 'numeric' || name === 'anything-but'
        ? 'Too many elements in numeric expression'
        : 'Only one key allowed in match expression',
    );
  }
  return compiled;
}

function compileOperator(name: string, operand: unknown): MatchExpression {
  switch (name) {
    case 'exactly':
      // Event Ruler's explicit (if undocumented for EventBridge) spelling of a plain string match; unlike a
      // bare string it is never read as an IP address.
      if (typeof operand !== 'string') throw invalid('exact match pattern must be a string');
      return { kind: 'test', test: (value) => value === operand };
    case 'prefix':
    case 'suffix':
      return { kind: 'test', test: compileAffix(name, operand) };
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') throw invalid('equals-ignore-case match pattern must be a string');
      const folded = foldCase(operand);
      return {
        kind: 'test',
        test: (value) => typeof value === 'string' && equalsIgnoringCase(value, folded),
      };
    }
    case 'wildcard': {
      if (typeof operand !== 'string') throw invalid('wildcard match pattern must be a string');
      validateWildcardSyntax(operand);
      const matches = compileWildcard(operand);
      return {
        kind: 'test',
        test: (value) => typeof value === 'string' && matches(value),
        wildcard: operand,
      };
    }
    case 'numeric':
      return { kind: 'test', test: compileNumeric(operand) };
    case 'exists':
      if (typeof operand !== 'boolean') throw invalid('exists match pattern must be either true or false.');
      return { kind: 'exists', present: operand };
    case 'cidr':
      // Not our typo: AWS reports a non-string CIDR with the prefix operator's message.
      if (typeof operand !== 'string') throw invalid('prefix match pattern must be a string');
      return { kind: 'test', test: compileCidr(operand) };
    case 'anything-but':
      return { kind: 'test', test: compileAnythingBut(operand) };
    default:
      // Operator names are case-sensitive: "NUMERIC" and "EXISTS" are unknown operators, not aliases.
      throw invalid(`Unrecognized match type ${name}`);
  }
}

/** `prefix` / `suffix`, either a string or `{"equals-ignore-case": string}`. Only string values match. */
function compileAffix(kind: 'prefix' | 'suffix', operand: unknown): ScalarTest {
  if (isJsonObject(operand)) {
    const keys = Object.keys(operand);
    const inner = keys[0];
    if (inner === undefined) {
      throw invalid(`${kind === 'prefix' ? 'Prefix' : 'Suffix'} expression name not found`);
    }
    if (inner !== 'equals-ignore-case') throw invalid(`Unsupported ${kind} pattern: ${inner}`);
    const text = operand[inner];
    if (typeof text !== 'string') throw invalid('equals-ignore-case match pattern must be a string');
    if (keys.length > 1) throw invalid('Only one key allowed in match expression');
    const folded = foldCase(text);
    return kind === 'prefix'
      ? (value) => typeof value === 'string' && startsWithIgnoringCase(value, folded)
      : (value) => typeof value === 'string' && endsWithIgnoringCase(value, folded);
  }
  if (typeof operand !== 'string') throw invalid(`${kind} match pattern must be a string`);
  // An empty prefix or suffix is allowed here (unlike under anything-but) and means "any string value".
  return kind === 'prefix'
    ? (value) => typeof value === 'string' && value.startsWith(operand)
    : (value) => typeof value === 'string' && value.endsWith(operand);
}

const ANYTHING_BUT_NESTED = new Set(['equals-ignore-case', 'prefix', 'suffix', 'wildcard']);

/**
 * `anything-but` matches any leaf value the inner matcher rejects, including null, booleans and values of
 * the other type (a number is "anything but" a string prefix). A missing field is not a value, so it never
 * matches; that is `exists: false`'s job.
 */
function compileAnythingBut(operand: unknown): ScalarTest {
  if (isJsonObject(operand)) return compileNestedAnythingBut(operand);
  if (Array.isArray(operand)) {
    for (const item of operand) {
      if (typeof item !== 'string' && !isFiniteNumber(item)) {
        throw invalid('Inside anything but list, start|null|boolean is not supported.');
      }
    }
    const hasString = operand.some((item) => typeof item === 'string');
    const hasNumber = operand.some((item) => typeof item === 'number');
    if (hasString === hasNumber) {
      throw invalid(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    }
    if (hasString) {
      const excluded = new Set(operand.filter((item): item is string => typeof item === 'string'));
      return (value) => !(typeof value === 'string' && excluded.has(value));
    }
    const excluded = new Set(operand.filter(isFiniteNumber));
    return (value) => !(typeof value === 'number' && excluded.has(value));
  }
  if (typeof operand === 'string' || isFiniteNumber(operand)) return (value) => value !== operand;
  throw invalid('Value of anything-but must be an array or single string/number value.');
}

function compileNestedAnythingBut(operand: JsonObject): ScalarTest {
  const keys = Object.keys(operand);
  const kind = keys[0];
  if (kind === undefined) throw invalid('Anything-But expression name not found');
  if (!ANYTHING_BUT_NESTED.has(kind)) throw invalid(`Unsupported anything-but pattern: ${kind}`);
  const inner = operand[kind];
  // The outer type guard runs first, so a nested object such as {"prefix": {"equals-ignore-case": ..}}
  // is reported against anything-but itself: AWS has no negated case-insensitive prefix.
  if (!Array.isArray(inner) && typeof inner !== 'string' && typeof inner !== 'number') {
    throw invalid('Value of anything-but must be an array or single string/number value.');
  }
  const items = Array.isArray(inner) ? inner : [inner];
  const texts: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      if (kind === 'equals-ignore-case') {
        throw invalid(
          'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
        );
      }
      throw invalid(
        kind === 'wildcard'
          ? 'wildcard match pattern must be a string'
          : 'prefix/suffix match pattern must be a string',
      );
    }
    // Only here is an empty affix refused: a negated empty prefix would exclude every string.
    if ((kind === 'prefix' || kind === 'suffix') && item === '') {
      throw invalid('Null prefix/suffix not allowed');
    }
    if (kind === 'wildcard') validateWildcardSyntax(item);
    texts.push(item);
  }
  // Event Ruler's compiler lets an empty list through, leaving nothing to exclude, so the rule would match
  // every present value. A deliberate divergence: refuse it as the empty list it is.
  if (texts.length === 0) throw invalid('Empty arrays are not allowed');
  if (keys.length > 1) throw invalid('Too many elements in numeric expression');

  let excluded: (text: string) => boolean;
  switch (kind) {
    case 'prefix':
      excluded = (text) => texts.some((prefix) => text.startsWith(prefix));
      break;
    case 'suffix':
      excluded = (text) => texts.some((suffix) => text.endsWith(suffix));
      break;
    case 'equals-ignore-case': {
      const folded = texts.map(foldCase);
      excluded = (text) => folded.some((candidate) => equalsIgnoringCase(text, candidate));
      break;
    }
    default: {
      const wildcards = texts.map(compileWildcard);
      excluded = (text) => wildcards.some((matches) => matches(text));
    }
  }
  return (value) => typeof value !== 'string' || !excluded(value);
}

// ---------------------------------------------------------------------------------------------------------
// numeric
// ---------------------------------------------------------------------------------------------------------

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

/** How Event Ruler names a JSON token in an error: its text, or the bracket it starts or ends with. */
function tokenText(value: unknown): string {
  if (value === undefined) return ']';
  if (Array.isArray(value)) return '[';
  if (isJsonObject(value)) return '{';
  return String(value);
}

function numericThreshold(operator: string, value: unknown): number {
  // Only finiteness is checked. Older AWS documentation limits numeric matching to +/-5.0e9 with six
  // decimal places; that is not enforced here, and comparisons use full double precision.
  if (!isFiniteNumber(value)) {
    throw invalid(`Value of ${operator === '=' ? 'equals' : operator} must be numeric`);
  }
  return value;
}

/**
 * `numeric` is a small grammar, not a list of pairs: one comparison, or a lower bound (`>`/`>=`) followed
 * by an upper bound (`<`/`<=`). Only JSON numbers match; the string "300" does not.
 */
function compileNumeric(operand: unknown): ScalarTest {
  if (!Array.isArray(operand)) throw invalid('Value of numeric must be an array.');
  const operator: unknown = operand[0];
  if (typeof operator !== 'string') throw invalid(`Invalid member in numeric match: ${tokenText(operator)}`);
  if (!NUMERIC_OPERATORS.has(operator)) throw invalid(`Unrecognized numeric range operator: ${operator}`);
  const bound = numericThreshold(operator, operand[1]);

  if (operator === '=' || operator === '<' || operator === '<=') {
    if (operand.length > 2) throw invalid('Too many elements in numeric expression');
    if (operator === '=') return (value) => typeof value === 'number' && value === bound;
    if (operator === '<') return (value) => typeof value === 'number' && value < bound;
    return (value) => typeof value === 'number' && value <= bound;
  }

  const lowerOpen = operator === '>';
  if (operand.length === 2) {
    return lowerOpen
      ? (value) => typeof value === 'number' && value > bound
      : (value) => typeof value === 'number' && value >= bound;
  }
  const upperOperator: unknown = operand[2];
  if (typeof upperOperator !== 'string') {
    throw invalid(`Bad value in numeric range: ${tokenText(upperOperator)}`);
  }
  if (upperOperator !== '<' && upperOperator !== '<=') {
    throw invalid(`Bad numeric range operator: ${upperOperator}`);
  }
  const top = numericThreshold(upperOperator, operand[3]);
  if (operand.length > 4) throw invalid('Too many terms in numeric range expression');
  if (!(bound < top)) throw invalid('Bottom must be less than top');
  const upperOpen = upperOperator === '<';
  return (value) =>
    typeof value === 'number' &&
    (lowerOpen ? value > bound : value >= bound) &&
    (upperOpen ? value < top : value <= top);
}

// ---------------------------------------------------------------------------------------------------------
// equals-ignore-case
// ---------------------------------------------------------------------------------------------------------

/**
 * An operand for case-insensitive matching. Event Ruler accepts, at each operand character, that
 * character's lower-case or upper-case form, which is neither `toLowerCase()` equality (it is asymmetric,
 * and a form may change length: "ß" upper-cases to "SS") nor Unicode case folding.
 */
interface FoldedText {
  /** Per operand code point, the accepted spellings (one or two). */
  readonly spellings: readonly (readonly string[])[];
  /** When every spelling is one UTF-16 unit, matching is a plain per-unit comparison on these. */
  readonly simple: boolean;
  readonly lower: string;
  readonly upper: string;
}

function foldCase(text: string): FoldedText {
  const spellings: string[][] = [];
  let simple = true;
  let lower = '';
  let upper = '';
  for (const character of text) {
    const lowerForm = character.toLowerCase();
    const upperForm = character.toUpperCase();
    spellings.push(lowerForm === upperForm ? [lowerForm] : [lowerForm, upperForm]);
    if (lowerForm.length !== 1 || upperForm.length !== 1) simple = false;
    lower += lowerForm;
    upper += upperForm;
  }
  return { spellings, simple, lower, upper };
}

function unitsMatch(value: string, offset: number, folded: FoldedText): boolean {
  for (let index = 0; index < folded.lower.length; index++) {
    const unit = value.charCodeAt(offset + index);
    if (unit !== folded.lower.charCodeAt(index) && unit !== folded.upper.charCodeAt(index)) return false;
  }
  return true;
}

/** The offsets of `value` at which a walk consuming the whole operand can end (or, backwards, start). */
function reachableOffsets(value: string, folded: FoldedText, backwards: boolean): number[] {
  let offsets = [backwards ? value.length : 0];
  const count = folded.spellings.length;
  for (let step = 0; step < count; step++) {
    const spellings = folded.spellings[backwards ? count - 1 - step : step] ?? [];
    const next: number[] = [];
    for (const offset of offsets) {
      for (const spelling of spellings) {
        const start = backwards ? offset - spelling.length : offset;
        if (start < 0 || !value.startsWith(spelling, start)) continue;
        const reached = backwards ? start : offset + spelling.length;
        if (!next.includes(reached)) next.push(reached);
      }
    }
    if (next.length === 0) return next;
    offsets = next;
  }
  return offsets;
}

function equalsIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) return value.length === folded.lower.length && unitsMatch(value, 0, folded);
  return reachableOffsets(value, folded, false).includes(value.length);
}

function startsWithIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) return value.length >= folded.lower.length && unitsMatch(value, 0, folded);
  return reachableOffsets(value, folded, false).length > 0;
}

function endsWithIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) {
    const offset = value.length - folded.lower.length;
    return offset >= 0 && unitsMatch(value, offset, folded);
  }
  return reachableOffsets(value, folded, true).length > 0;
}

// ---------------------------------------------------------------------------------------------------------
// wildcard
// ---------------------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

/** AWS reports wildcard faults as a byte offset into the operand *with* its JSON quotes, hence the +1. */
function wildcardPosition(text: string, index: number): number {
  return utf8.encode(text.slice(0, index)).length + 1;
}

/**
 * Only `*` is special; `\*` is a literal star and `\\` a literal backslash. Any other escape, a trailing
 * backslash (it would escape the closing quote) and `**` are refused.
 */
function validateWildcardSyntax(text: string): void {
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '*') {
      if (text[index + 1] === '*') {
        throw invalid(`Consecutive wildcard characters at pos ${wildcardPosition(text, index)}`);
      }
    } else if (character === '\\') {
      const escaped = text[index + 1];
      if (escaped !== '*' && escaped !== '\\') {
        throw invalid(`Invalid escape character at pos ${wildcardPosition(text, index)}`);
      }
      index++;
    }
  }
}

/** The literal runs between unescaped stars. */
function wildcardSegments(text: string): string[] {
  const segments = [''];
  for (let index = 0; index < text.length; index++) {
    const character = text[index] ?? '';
    if (character === '*') {
      segments.push('');
      continue;
    }
    const literal = character === '\\' ? (text[++index] ?? '') : character;
    segments[segments.length - 1] += literal;
  }
  return segments;
}

/**
 * A glob with `*` only needs no regex: anchor the first and last runs, then place each middle run at its
 * leftmost occurrence. That is linear, where a naive `.*a.*b` regex backtracks exponentially on misses.
 */
function compileWildcard(text: string): (value: string) => boolean {
  const segments = wildcardSegments(text);
  const first = segments[0] ?? '';
  if (segments.length === 1) return (value) => value === first;
  const last = segments[segments.length - 1] ?? '';
  const middle = segments.slice(1, -1).filter((segment) => segment !== '');
  const fixedLength = first.length + last.length;
  return (value) => {
    if (value.length < fixedLength || !value.startsWith(first) || !value.endsWith(last)) return false;
    const end = value.length - last.length;
    let position = first.length;
    for (const segment of middle) {
      const found = value.indexOf(segment, position);
      if (found < 0 || found + segment.length > end) return false;
      position = found + segment.length;
    }
    return true;
  };
}

/**
 * AWS refuses wildcard rules whose matcher could sit in too many states at once ("Rule is too complex").
 * This re-creates Event Ruler's MachineComplexityEvaluator for the wildcards on one field: build the byte
 * automaton the way Ruler does (determinate prefixes shared, one chain per pattern after its first star,
 * a star reachable with zero bytes), explore every set of states some input can reach, and weigh each set
 * by the patterns still reachable from it. AWS's threshold is 10: `*:*:*:*:*:event-bus/*` scores 11.
 */
const WILDCARD_COMPLEXITY_LIMIT = 10;
const TOO_COMPLEX =
  'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character';
const STAR_TOKEN = 256;
const OTHER_BYTE = 257;
/** Caps the subset exploration; a rule needing more is certainly past the threshold. */
const MAX_COMPLEXITY_STATE_SETS = 20_000;

interface AutomatonState {
  readonly literal: Map<number, number[]>;
  readonly any: number[];
  readonly weight: Set<number>;
  readonly shared: Map<number, number>;
}

function checkWildcardComplexity(alternatives: readonly Alternative[]): void {
  const byPath = new Map<string, Set<string>>();
  for (const alternative of alternatives) {
    for (const [path, leaf] of alternative) {
      if (leaf.wildcards.length === 0) continue;
      const patterns = byPath.get(path) ?? new Set<string>();
      for (const wildcard of leaf.wildcards) patterns.add(wildcard);
      byPath.set(path, patterns);
    }
  }
  for (const patterns of byPath.values()) {
    if (wildcardComplexity([...patterns]) > WILDCARD_COMPLEXITY_LIMIT) throw invalid(TOO_COMPLEX);
  }
}

/** Ruler matches the UTF-8 bytes of the quoted value, so the tokens are bytes, quotes and stars. */
function wildcardTokens(text: string): number[] {
  const tokens = [0x22];
  for (let index = 0; index < text.length; index++) {
    let character = text[index] ?? '';
    if (character === '*') {
      tokens.push(STAR_TOKEN);
      continue;
    }
    if (character === '\\') character = text[++index] ?? '';
    const codePoint = text.codePointAt(index) ?? 0;
    if (codePoint > 0xffff) {
      character = String.fromCodePoint(codePoint);
      index++;
    }
    tokens.push(...utf8.encode(character));
  }
  tokens.push(0x22);
  return tokens;
}

function wildcardComplexity(patterns: readonly string[]): number {
  const newState = (): AutomatonState => ({
    literal: new Map(),
    any: [],
    weight: new Set(),
    shared: new Map(),
  });
  const states: AutomatonState[] = [newState()];
  const state = (id: number): AutomatonState => states[id] ?? newState();
  const addLiteral = (from: number, byte: number, to: number): void => {
    const targets = state(from).literal.get(byte) ?? [];
    targets.push(to);
    state(from).literal.set(byte, targets);
  };
  const alphabet = new Set<number>();

  patterns.forEach((pattern, patternIndex) => {
    const tokens = wildcardTokens(pattern);
    let current = 0;
    let beforeStar = -1;
    let determinate = true;
    tokens.forEach((token, index) => {
      const terminal = index === tokens.length - 1;
      let next = determinate && !terminal ? (state(current).shared.get(token) ?? 0) : 0;
      const created = next === 0;
      if (created) {
        next = states.length;
        states.push(newState());
        if (determinate && !terminal) state(current).shared.set(token, next);
      }
      if (token === STAR_TOKEN) {
        if (created) {
          state(current).any.push(next);
          state(next).any.push(next);
        }
        beforeStar = current;
        determinate = false;
      } else if (created) {
        alphabet.add(token);
        addLiteral(current, token, next);
        // A star may match nothing, so the byte after it is also reachable from before the star.
        if (index > 0 && tokens[index - 1] === STAR_TOKEN) addLiteral(beforeStar, token, next);
      }
      state(next).weight.add(patternIndex);
      current = next;
    });
  });

  const inputs = [OTHER_BYTE, ...alphabet];
  const pending: number[][] = [[0]];
  const seen = new Set<string>();
  let maximum = 0;
  while (pending.length > 0) {
    const active = pending.pop() ?? [];
    for (const input of inputs) {
      const reached = new Set<number>();
      for (const id of active) {
        for (const target of state(id).any) reached.add(target);
        if (input === OTHER_BYTE) continue;
        for (const target of state(id).literal.get(input) ?? []) reached.add(target);
      }
      if (reached.size === 0) continue;
      let complexity = 0;
      for (const id of reached) {
        complexity += state(id).weight.size;
        // A state that could step into a star is already "in" that star's prefix for the worst input.
        for (const star of state(id).any) if (!reached.has(star)) complexity += state(star).weight.size;
      }
      if (complexity > WILDCARD_COMPLEXITY_LIMIT) return complexity;
      maximum = Math.max(maximum, complexity);
      const key = [...reached].sort((a, b) => a - b).join(',');
      if (!seen.has(key)) {
        if (seen.size >= MAX_COMPLEXITY_STATE_SETS) return WILDCARD_COMPLEXITY_LIMIT + 1;
        seen.add(key);
        pending.push([...reached]);
      }
    }
  }
  return maximum;
}

// ---------------------------------------------------------------------------------------------------------
// cidr and IP addresses
// ---------------------------------------------------------------------------------------------------------

// Ruler only hands text of these shapes to Java's address parser (anything else could trigger a DNS
// lookup), so zone ids, dotted IPv4-in-IPv6 and hostnames are never addresses.
const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function looksLikeIpAddress(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

/** The address's bytes (4 or 16), or undefined when `text` is not an address AWS would read. */
function parseIpAddress(text: string): Uint8Array | undefined {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (IPV6_SHAPE.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  const octets = text.split('.');
  for (let index = 0; index < 4; index++) {
    // Octets are read as decimal even with leading zeros ("010" is 10, not octal 8).
    const octet = Number(octets[index]);
    if (!(octet <= 255)) return undefined;
    bytes[index] = octet;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  // Java turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d written in hex) into the IPv4 address itself.
  const mapped =
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function compareBytes(left: Uint8Array, right: Uint8Array): number {
  for (let index = 0; index < left.length; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function matchesAnyAddress(value: string, addresses: readonly Uint8Array[]): boolean {
  const address = parseIpAddress(value);
  if (address === undefined) return false;
  return addresses.some(
    (candidate) => candidate.length === address.length && compareBytes(candidate, address) === 0,
  );
}

/** Java's `String.split`, which drops trailing empty strings: "10.0.0.0/24/" still has one '/'. */
function splitLikeJava(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Java's `Integer.parseInt`: an optional sign, ASCII digits, 32-bit range. */
function parseJavaInt(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= -(2 ** 31) && value < 2 ** 31 ? value : undefined;
}

/**
 * Ruler's CIDR range runs from the address *as written* to that address with the host bits set; it does
 * not clear host bits, so "10.0.0.5/24" covers 10.0.0.5-10.0.0.255. The mask must be below the address
 * width: AWS refuses "/32" for IPv4 and "/128" for IPv6.
 */
function compileCidr(text: string): ScalarTest {
  const parts = splitLikeJava(text, '/');
  if (parts.length !== 2) throw invalid("Malformed CIDR, one '/' required");
  const address = parts[0] ?? '';
  const maskBits = parseJavaInt(parts[1] ?? '');
  if (maskBits === undefined) throw invalid('Malformed CIDR, mask bits must be an integer');
  if (maskBits < 0) throw invalid('Malformed CIDR, mask bits must not be negative');
  if (!looksLikeIpAddress(address)) throw invalid(`Nonstandard IP address: ${address}`);
  const bottom = parseIpAddress(address);
  if (bottom === undefined) throw invalid(`Invalid IP address: ${address}`);
  if (bottom.length === 4 && maskBits > 31) throw invalid('IPv4 mask bits must be < 32');
  if (bottom.length === 16 && maskBits > 127) throw invalid('IPv6 mask bits must be < 128');

  const top = Uint8Array.from(bottom);
  let hostBits = top.length * 8 - maskBits;
  for (let index = top.length - 1; index >= 0 && hostBits > 0; index--, hostBits -= 8) {
    top[index] = (top[index] ?? 0) | (hostBits >= 8 ? 0xff : (1 << hostBits) - 1);
  }
  return (value) => {
    if (typeof value !== 'string') return false;
    const candidate = parseIpAddress(value);
    return (
      candidate !== undefined &&
      candidate.length === bottom.length &&
      compareBytes(candidate, bottom) >= 0 &&
      compareBytes(candidate, top) <= 0
    );
  };
}

// ---------------------------------------------------------------------------------------------------------
// Matching: each alternative becomes a trie of path segments compiled into closures
// ---------------------------------------------------------------------------------------------------------

/**
 * The places an event value for a pattern path may be found while matching: entry i says "in
 * `sources[i]`, under the key made of the path's segments from `depths[i]` on". The entry at the current
 * depth is the ordinary case; shallower entries stay in play because AWS joins names with dots, so
 * `{"a.b": 1}` is also the value at path a -> b. Branches push entries and pop them on the way out, so one
 * pair of arrays serves a whole match without copying.
 */
interface ContextStack {
  readonly sources: JsonObject[];
  readonly depths: number[];
}

type NodeTest = (stack: ContextStack) => boolean;

interface PathTrie {
  leaf: CompiledLeaf | undefined;
  readonly children: Map<string, PathTrie>;
}

/** How to find one pattern path's value from an entry of each depth. */
interface FieldKeys {
  /** The key to read from an entry of depth d: the rest of the path from segment d, dot-joined. */
  readonly keys: readonly string[];
  /** Whether that key also names a member of Object.prototype, and so needs an own-property check. */
  readonly inherited: readonly boolean[];
}

/** Guards recursion into arrays nested in arrays; an event nesting them deeper is not a real event. */
const MAX_ARRAY_NESTING = 64;

function buildPathTrie(alternative: Alternative): PathTrie {
  const root: PathTrie = { leaf: undefined, children: new Map() };
  for (const [path, leaf] of alternative) {
    let node = root;
    for (const segment of path.split('.')) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { leaf: undefined, children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.leaf = leaf;
  }
  return root;
}

function fieldKeys(path: readonly string[]): FieldKeys {
  const keys = path.map((_, depth) => path.slice(depth).join('.'));
  // Events are parsed JSON and inherit from Object.prototype, so a field named "constructor" must not
  // resolve to the inherited member. Only such names pay for the own-property check, which V8 runs several
  // times slower than a plain read.
  return { keys, inherited: keys.map((key) => key in Object.prototype) };
}

/** The value at a path from stack entry `index`; undefined (never a JSON value) when there is none. */
function readField(stack: ContextStack, index: number, field: FieldKeys): unknown {
  const depth = stack.depths[index] ?? 0;
  const key = field.keys[depth];
  const source = stack.sources[index];
  if (key === undefined || source === undefined) return undefined;
  if (field.inherited[depth] === true && !Object.hasOwn(source, key)) return undefined;
  return source[key];
}

function compileNode(node: PathTrie, path: readonly string[]): NodeTest {
  const leafTests: NodeTest[] = [];
  const branchTests: NodeTest[] = [];
  for (const [segment, child] of node.children) {
    const childPath = [...path, segment];
    const field = fieldKeys(childPath);
    if (child.leaf !== undefined) leafTests.push(compileLeafTest(field, child.leaf));
    if (child.children.size > 0) {
      branchTests.push(compileBranchTest(field, childPath.length, compileNode(child, childPath)));
    }
  }
  // Leaves first: they are cheap and usually decide the answer before any nested object is visited.
  const tests = [...leafTests, ...branchTests];
  return (stack) => {
    for (let index = 0; index < tests.length; index++) {
      const test = tests[index];
      if (test !== undefined && !test(stack)) return false;
    }
    return true;
  };
}

const LEAF_ABSENT = 0;
const LEAF_PRESENT = 1;
const LEAF_MATCHED = 2;
type LeafScan = typeof LEAF_ABSENT | typeof LEAF_PRESENT | typeof LEAF_MATCHED;

function isScalar(value: unknown): value is Scalar {
  const type = typeof value;
  return value === null || type === 'string' || type === 'number' || type === 'boolean';
}

/**
 * Offers every leaf of an event value to the leaf's matchers. Arrays are flattened; objects are not
 * leaves, which is why `exists: true` fails and `exists: false` holds on an object-valued field, and why an
 * empty array counts as absent.
 */
function scanValue(value: unknown, leaf: CompiledLeaf, nesting: number): LeafScan {
  if (Array.isArray(value)) {
    if (nesting >= MAX_ARRAY_NESTING) return LEAF_ABSENT;
    let result: LeafScan = LEAF_ABSENT;
    for (const element of value) {
      const scanned = scanValue(element, leaf, nesting + 1);
      if (scanned === LEAF_MATCHED) return LEAF_MATCHED;
      if (scanned === LEAF_PRESENT) result = LEAF_PRESENT;
    }
    return result;
  }
  if (!isScalar(value)) return LEAF_ABSENT;
  if (leaf.existsTrue || leaf.test?.(value) === true) return LEAF_MATCHED;
  return LEAF_PRESENT;
}

function compileLeafTest(field: FieldKeys, leaf: CompiledLeaf): NodeTest {
  return (stack) => {
    let present = false;
    for (let index = stack.sources.length - 1; index >= 0; index--) {
      const scanned = scanValue(readField(stack, index, field), leaf, 0);
      if (scanned === LEAF_MATCHED) return true;
      if (scanned === LEAF_PRESENT) present = true;
    }
    return leaf.existsFalse && !present;
  };
}

function collectObjects(value: readonly unknown[], into: JsonObject[], nesting: number): void {
  if (nesting >= MAX_ARRAY_NESTING) return;
  for (const element of value) {
    if (isJsonObject(element)) into.push(element);
    else if (Array.isArray(element)) collectObjects(element, into, nesting + 1);
  }
}

function truncate(stack: ContextStack, length: number): void {
  while (stack.sources.length > length) {
    stack.sources.pop();
    stack.depths.pop();
  }
}

/**
 * A nested pattern object. When the event has an array of objects there, the whole nested pattern must
 * hold within one element (AWS's array consistency), so each element is tried in turn. A missing or
 * non-object value still lets the nested pattern be evaluated (against nothing), which is what makes
 * `exists: false` under a missing parent match.
 */
function compileBranchTest(field: FieldKeys, depth: number, child: NodeTest): NodeTest {
  return (stack) => {
    const mark = stack.sources.length;
    let elements: JsonObject[] | undefined;
    for (let index = 0; index < mark; index++) {
      const value = readField(stack, index, field);
      if (isJsonObject(value)) {
        stack.sources.push(value);
        stack.depths.push(depth);
      } else if (Array.isArray(value)) {
        elements ??= [];
        collectObjects(value, elements, 0);
      }
    }
    let matched = false;
    if (elements === undefined || elements.length === 0) {
      matched = child(stack);
    } else {
      const shared = stack.sources.length;
      for (const element of elements) {
        stack.sources.push(element);
        stack.depths.push(depth);
        matched = child(stack);
        truncate(stack, shared);
        if (matched) break;
      }
    }
    truncate(stack, mark);
    return matched;
  };
}
