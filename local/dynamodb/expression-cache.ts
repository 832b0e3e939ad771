/**
 * Memoizes dynalite's expression parsers (condition, update, projection expressions).
 *
 * Why: dynalite parses every expression of every request with a generated PEG parser that
 * backtracks heavily; the idempotency ledger's PutItem condition (`attribute_not_exists(#id) OR
 * #expiry < :now OR (...)`) took about 0.8 ms of CPU per webhook, the largest single cost of an
 * acknowledged webhook in the local hub. The same few expressions come back with every delivery,
 * only their values change.
 *
 * What is cached: the parse tree of a successful parse, keyed by parser, expression text, the
 * `ExpressionAttributeNames` and the DynamoDB type of each `ExpressionAttributeValues` entry (the
 * parsers check operand types, never other properties of values, except in `BETWEEN` and
 * `attribute_type(...)`, which are never cached). The values themselves are substituted into a copy
 * of the cached tree on every use, and the names and values the expression used are removed from
 * `unusedAttrNames`/`unusedAttrVals` exactly as the parser does, so dynalite's "unused" checks and
 * everything after them see what an uncached parse would give. Failed parses are not cached: an
 * invalid expression is parsed (and rejected with dynalite's own message) every time.
 */

/** The parser modules' shape: `parse(text, { context })` (pegjs output). */
interface PegParser {
  parse: (text: string, options: { context: ParseContext }) => unknown;
}

interface ParseContext {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, unknown>;
  unusedAttrVals?: Record<string, unknown>;
  isKeyCondition?: boolean;
}

interface CachedParse {
  /** The parse tree with every attribute value replaced by a {@link Placeholder}. */
  readonly tree: unknown;
  readonly usedNames: readonly string[];
  readonly usedValues: readonly string[];
}

/** Stands for `context.attrVals[name]` in a cached tree. */
class Placeholder {
  constructor(readonly name: string) {}
}

const ATTRIBUTE_TYPES = ['S', 'N', 'B', 'NULL', 'BOOL', 'SS', 'NS', 'BS', 'L', 'M'] as const;
/** Expressions whose validation looks at values beyond their type. */
const VALUE_DEPENDENT = /\bbetween\b|\battribute_type\s*\(/i;
/** Distinct expressions are few (one per call site); the bound only guards against pathological clients. */
const MAX_ENTRIES = 1000;

function typeOf(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return '?';
  const record = value as Record<string, unknown>;
  return ATTRIBUTE_TYPES.find((type) => record[type] !== undefined && record[type] !== null) ?? '?';
}

function cacheKey(parserId: number, text: string, context: ParseContext): string {
  const values = context.attrVals
    ? Object.entries(context.attrVals).map(([name, value]) => `${name}:${typeOf(value)}`)
    : [];
  return `${parserId}\u0000${context.isKeyCondition ? 'k' : ''}\u0000${text}\u0000${JSON.stringify(context.attrNames ?? null)}\u0000${values.join(',')}`;
}

/** A copy of `tree` with the objects of `values` (by identity) replaced by placeholders. */
function toTemplate(tree: unknown, values: ReadonlyMap<unknown, string>): unknown {
  if (typeof tree !== 'object' || tree === null) return tree;
  const name = values.get(tree);
  if (name !== undefined) return new Placeholder(name);
  if (Array.isArray(tree)) return tree.map((item) => toTemplate(item, values));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(tree)) copy[key] = toTemplate(item, values);
  return copy;
}

/** A fresh tree from a template, with the request's own values in place of the placeholders. */
function fromTemplate(template: unknown, values: Readonly<Record<string, unknown>>): unknown {
  if (typeof template !== 'object' || template === null) return template;
  if (template instanceof Placeholder) return values[template.name];
  if (Array.isArray(template)) return template.map((item) => fromTemplate(item, values));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(template)) copy[key] = fromTemplate(item, values);
  return copy;
}

function memoize(parser: PegParser, parserId: number): void {
  const parse = parser.parse.bind(parser);
  const cache = new Map<string, CachedParse>();
  parser.parse = (text, options) => {
    const context = options.context;
    if (VALUE_DEPENDENT.test(text)) return parse(text, options);
    const key = cacheKey(parserId, text, context);
    const cached = cache.get(key);
    if (cached) {
      for (const name of cached.usedNames) delete context.unusedAttrNames?.[name];
      for (const name of cached.usedValues) delete context.unusedAttrVals?.[name];
      return fromTemplate(cached.tree, context.attrVals ?? {});
    }
    const unusedNamesBefore = Object.keys(context.unusedAttrNames ?? {});
    const unusedValuesBefore = Object.keys(context.unusedAttrVals ?? {});
    // Throws on an invalid expression: nothing is cached then.
    const tree = parse(text, options);
    const values = new Map<unknown, string>(
      Object.entries(context.attrVals ?? {}).map(([name, value]) => [value, name]),
    );
    if (cache.size >= MAX_ENTRIES) cache.clear();
    cache.set(key, {
      tree: toTemplate(tree, values),
      usedNames: unusedNamesBefore.filter((name) => !(name in (context.unusedAttrNames ?? {}))),
      usedValues: unusedValuesBefore.filter((name) => !(name in (context.unusedAttrVals ?? {}))),
    });
    return tree;
  };
}

let installed = false;

/**
 * Installs the memoizing parsers into dynalite's modules (once per process, before or after
 * dynalite is loaded: its validations look `parse` up on the module at every call).
 *
 * @example
 * memoizeDynaliteExpressionParsers(createRequire(import.meta.url));
 */
export function memoizeDynaliteExpressionParsers(require: NodeJS.Require): void {
  if (installed) return;
  installed = true;
  ['dynalite/db/conditionParser', 'dynalite/db/updateParser', 'dynalite/db/projectionParser'].forEach(
    (path, index) => {
      const parser = require(path) as PegParser;
      if (typeof parser.parse !== 'function') throw new Error(`${path} no longer exports parse()`);
      memoize(parser, index);
    },
  );
}
