/**
 * Building blocks for signature checks. Every scheme compares in constant time over the raw bytes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.ts';

/**
 * Constant-time equality of two strings or buffers. Both sides are hashed first so that neither
 * the length nor the position of the first difference leaks through timing.
 */
export function safeEqual(expected: string | Buffer, actual: string | Buffer): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(actual).digest();
  return timingSafeEqual(a, b);
}

/** HMAC of the given parts (strings as UTF-8, buffers as is), in the encoding the vendor uses. */
export function hmac(
  algorithm: 'sha1' | 'sha256',
  key: string,
  parts: ReadonlyArray<string | Buffer>,
  encoding: 'base64' | 'hex',
): string {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest(encoding);
}

/** The header's value, or a 401 saying which header is missing. */
export function requireHeader(headers: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = headers[name.toLowerCase()];
  if (value === undefined || value.trim() === '') {
    throw new SignatureError('missing_signature', `the ${name} header is missing`);
  }
  return value.trim();
}
