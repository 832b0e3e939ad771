/**
 * Pattern compilation, first step: a pattern object (with `$or`) becomes its alternatives, each a map
 * from dotted path to compiled value list, as Event Ruler reads it.
 *
 * - `{"a": {"b": [..]}}` and `{"a.b": [..]}` are the same path.
 * - `$or` is expanded into alternatives (disjunctive normal form); a later write to a path replaces an
 *   earlier one, exactly like a duplicate JSON key.
 */
import {
  type Alternative,
  type CompiledLeaf,
  InvalidEventPatternError,
  invalid,
  isJsonObject,
  type JsonObject,
} from './model.ts';
import { compileLeaf } from './values.ts';
import { checkWildcardComplexity } from './wildcard.ts';

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

/** Parses a pattern's JSON text; with duplicate keys the last occurrence wins, as on AWS. */
export function parsePatternText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(
      `Event pattern is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Validates a parsed pattern as AWS does and returns its alternatives. */
export function compileAlternatives(pattern: unknown): Alternative[] {
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
