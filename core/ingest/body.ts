/**
 * Body parsers for verified webhook bodies. Malformed input is the sender's mistake: a 400 that says
 * what is wrong, never a 500.
 */
import { ValidationError } from '../errors.ts';

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ValidationError(
      `body is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`,
      'malformed_body',
    );
  }
}

/**
 * Parses `application/x-www-form-urlencoded`. A repeated name keeps all its values, in order.
 */
export function parseForm(body: Buffer): Map<string, string[]> {
  const form = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    const values = form.get(name);
    if (values) values.push(value);
    else form.set(name, [value]);
  }
  return form;
}
