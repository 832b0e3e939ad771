/**
 * Matching: each alternative of a compiled pattern becomes a trie of path segments compiled into
 * closures, run against a parsed event with no parsing or serialisation.
 *
 * Value-level operators only ever see leaves (strings, numbers, booleans, null). An array in the event
 * is flattened: the field matches if any element does. Objects under arrays are matched
 * array-consistently: two fields of one pattern object must come from the same array element.
 */
import { type Alternative, type CompiledLeaf, isJsonObject, type JsonObject, type Scalar } from './model.ts';

/**
 * Compiles a pattern's alternatives into one predicate over parsed events, which reuses its working
 * arrays from one event to the next.
 */
export function compileMatcher(alternatives: readonly Alternative[]): (event: unknown) => boolean {
  const tests = alternatives.map((alternative) => compileNode(buildPathTrie(alternative), []));
  const matchesAny = (stack: ContextStack): boolean => {
    for (const test of tests) {
      if (test(stack)) return true;
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
