/** `equals-ignore-case`, and the case-insensitive forms of `prefix` and `suffix`, as Event Ruler folds case. */

/**
 * An operand for case-insensitive matching. Event Ruler accepts, at each operand character, that
 * character's lower-case or upper-case form, which is neither `toLowerCase()` equality (it is asymmetric,
 * and a form may change length: "ß" upper-cases to "SS") nor Unicode case folding.
 */
export interface FoldedText {
  /** Per operand code point, the accepted spellings (one or two). */
  readonly spellings: readonly (readonly string[])[];
  /** When every spelling is one UTF-16 unit, matching is a plain per-unit comparison on these. */
  readonly simple: boolean;
  readonly lower: string;
  readonly upper: string;
}

export function foldCase(text: string): FoldedText {
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

export function equalsIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) return value.length === folded.lower.length && unitsMatch(value, 0, folded);
  return reachableOffsets(value, folded, false).includes(value.length);
}

export function startsWithIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) return value.length >= folded.lower.length && unitsMatch(value, 0, folded);
  return reachableOffsets(value, folded, false).length > 0;
}

export function endsWithIgnoringCase(value: string, folded: FoldedText): boolean {
  if (folded.simple) {
    const offset = value.length - folded.lower.length;
    return offset >= 0 && unitsMatch(value, offset, folded);
  }
  return reachableOffsets(value, folded, true).length > 0;
}
