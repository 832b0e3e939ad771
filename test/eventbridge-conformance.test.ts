/**
 * The local EventBridge matcher against AWS's own answers: the conformance cases in test/conformance/eventbridge-patterns/ (LocalStack's
 * templates, each checked against the real TestEventPattern API). The expected outcome is in the file
 * name: no suffix = matches, `_NEG` = does not match, `_EXC` = AWS rejects the pattern.
 */
import { readdirSync, readFileSync } from 'node:fs';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  validateEventPattern,
} from '../local/eventbridge/pattern.ts';

const CASES_DIR = new URL('./conformance/eventbridge-patterns/', import.meta.url);

/** The README's count: one file per case, the split pair counted as the files they are. */
const EXPECTED_CASE_FILES = 157;

/** One event and its pattern kept in two files rather than one `{Event, EventPattern}` document. */
const SPLIT_PAIR = {
  name: 'complex_multi_key',
  eventFile: 'complex_multi_key_event.json',
  patternFile: 'complex_multi_key_event_pattern.json',
} as const;

type Expected = 'match' | 'no match' | 'invalid';

interface ConformanceCase {
  readonly name: string;
  readonly expected: Expected;
  readonly event: unknown;
  readonly pattern: unknown;
}

function readJson5(file: string): unknown {
  // JSON5 keeps the last of duplicate keys, as JSON.parse (and AWS) do; the split pair relies on it.
  return JSON5.parse(readFileSync(new URL(file, CASES_DIR), 'utf8'));
}

function expectedFrom(stem: string): Expected {
  if (stem.endsWith('_EXC')) return 'invalid';
  if (stem.endsWith('_NEG')) return 'no match';
  return 'match';
}

/** Some templates may give the pattern as JSON text, as the AWS API takes it; parse it like the file. */
function patternOf(value: unknown): unknown {
  return typeof value === 'string' ? JSON5.parse(value) : value;
}

function loadCase(file: string): ConformanceCase {
  const document = readJson5(file);
  if (
    typeof document !== 'object' ||
    document === null ||
    !('Event' in document) ||
    !('EventPattern' in document)
  ) {
    throw new Error(`${file}: expected an object with "Event" and "EventPattern"`);
  }
  const stem = file.replace(/\.json5?$/, '');
  return {
    name: stem,
    expected: expectedFrom(stem),
    event: document.Event,
    pattern: patternOf(document.EventPattern),
  };
}

const caseFiles = readdirSync(CASES_DIR)
  .filter((file) => /\.json5?$/.test(file))
  .sort();

const cases: ConformanceCase[] = caseFiles
  .filter((file) => file !== SPLIT_PAIR.eventFile && file !== SPLIT_PAIR.patternFile)
  .map(loadCase);
if (caseFiles.includes(SPLIT_PAIR.eventFile) && caseFiles.includes(SPLIT_PAIR.patternFile)) {
  cases.push({
    name: SPLIT_PAIR.name,
    expected: 'match',
    event: readJson5(SPLIT_PAIR.eventFile),
    pattern: patternOf(readJson5(SPLIT_PAIR.patternFile)),
  });
}

describe('EventBridge pattern conformance', () => {
  it(`discovers all ${EXPECTED_CASE_FILES} case files`, () => {
    expect(caseFiles).toHaveLength(EXPECTED_CASE_FILES);
    // The split pair is two files but one case.
    expect(cases).toHaveLength(EXPECTED_CASE_FILES - 1);
  });

  it.each(cases)('$name: $expected', ({ expected, event, pattern }) => {
    if (expected === 'invalid') {
      expect(() => validateEventPattern(pattern)).toThrow(InvalidEventPatternError);
      expect(() => compileEventPattern(pattern)).toThrow(InvalidEventPatternError);
      return;
    }
    expect(() => validateEventPattern(pattern)).not.toThrow();
    expect(matchesEventPattern(pattern, event)).toBe(expected === 'match');
    // The JSON text form, as PutRule receives it, must agree with the parsed form.
    expect(compileEventPattern(JSON.stringify(pattern))(event)).toBe(expected === 'match');
  });
});
