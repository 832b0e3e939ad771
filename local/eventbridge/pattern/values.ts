/**
 * Pattern compilation, second step: a field's value list (literals and match expressions such as
 * `prefix`, `anything-but`, `numeric`, `cidr`) becomes one test over an event's leaf values.
 */
import {
  endsWithIgnoringCase,
  equalsIgnoringCase,
  foldCase,
  startsWithIgnoringCase,
} from './case-folding.ts';
import { compileCidr, matchesAnyAddress, parseIpAddress } from './ip-address.ts';
import {
  type CompiledLeaf,
  invalid,
  isFiniteNumber,
  isJsonObject,
  type JsonObject,
  type ScalarTest,
} from './model.ts';
import { compileNumeric } from './numeric.ts';
import { compileWildcard, validateWildcardSyntax } from './wildcard.ts';

type MatchExpression =
  | { readonly kind: 'exists'; readonly present: boolean }
  | { readonly kind: 'test'; readonly test: ScalarTest; readonly wildcard?: string };

/** Compiles one field's value list: the field matches if any entry does. */
export function compileLeaf(values: readonly unknown[]): CompiledLeaf {
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
