/** The `numeric` match expression: one comparison, or a lower and an upper bound. */
import { invalid, isFiniteNumber, isJsonObject, type ScalarTest } from './model.ts';

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
export function compileNumeric(operand: unknown): ScalarTest {
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
