/** The `wildcard` match expression: its syntax, its matcher, and AWS's rule-complexity limit. */
import { type Alternative, invalid } from './model.ts';

const utf8 = new TextEncoder();

/** AWS reports wildcard faults as a byte offset into the operand *with* its JSON quotes, hence the +1. */
function wildcardPosition(text: string, index: number): number {
  return utf8.encode(text.slice(0, index)).length + 1;
}

/**
 * Only `*` is special; `\*` is a literal star and `\\` a literal backslash. Any other escape, a trailing
 * backslash (it would escape the closing quote) and `**` are refused.
 */
export function validateWildcardSyntax(text: string): void {
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
export function compileWildcard(text: string): (value: string) => boolean {
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

export function checkWildcardComplexity(alternatives: readonly Alternative[]): void {
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
