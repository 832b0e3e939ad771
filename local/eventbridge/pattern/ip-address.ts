/** IP addresses as Event Ruler reads them: address literals in value lists, and the `cidr` match expression. */
import { invalid, type ScalarTest } from './model.ts';

// Ruler only hands text of these shapes to Java's address parser (anything else could trigger a DNS
// lookup), so zone ids, dotted IPv4-in-IPv6 and hostnames are never addresses.
const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

function looksLikeIpAddress(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

/** The address's bytes (4 or 16), or undefined when `text` is not an address AWS would read. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (IPV6_SHAPE.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  const octets = text.split('.');
  for (let index = 0; index < 4; index++) {
    // Octets are read as decimal even with leading zeros ("010" is 10, not octal 8).
    const octet = Number(octets[index]);
    if (!(octet <= 255)) return undefined;
    bytes[index] = octet;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  // Java turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d written in hex) into the IPv4 address itself.
  const mapped =
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function compareBytes(left: Uint8Array, right: Uint8Array): number {
  for (let index = 0; index < left.length; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function matchesAnyAddress(value: string, addresses: readonly Uint8Array[]): boolean {
  const address = parseIpAddress(value);
  if (address === undefined) return false;
  return addresses.some(
    (candidate) => candidate.length === address.length && compareBytes(candidate, address) === 0,
  );
}

/** Java's `String.split`, which drops trailing empty strings: "10.0.0.0/24/" still has one '/'. */
function splitLikeJava(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Java's `Integer.parseInt`: an optional sign, ASCII digits, 32-bit range. */
function parseJavaInt(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= -(2 ** 31) && value < 2 ** 31 ? value : undefined;
}

/**
 * Ruler's CIDR range runs from the address *as written* to that address with the host bits set; it does
 * not clear host bits, so "10.0.0.5/24" covers 10.0.0.5-10.0.0.255. The mask must be below the address
 * width: AWS refuses "/32" for IPv4 and "/128" for IPv6.
 */
export function compileCidr(text: string): ScalarTest {
  const parts = splitLikeJava(text, '/');
  if (parts.length !== 2) throw invalid("Malformed CIDR, one '/' required");
  const address = parts[0] ?? '';
  const maskBits = parseJavaInt(parts[1] ?? '');
  if (maskBits === undefined) throw invalid('Malformed CIDR, mask bits must be an integer');
  if (maskBits < 0) throw invalid('Malformed CIDR, mask bits must not be negative');
  if (!looksLikeIpAddress(address)) throw invalid(`Nonstandard IP address: ${address}`);
  const bottom = parseIpAddress(address);
  if (bottom === undefined) throw invalid(`Invalid IP address: ${address}`);
  if (bottom.length === 4 && maskBits > 31) throw invalid('IPv4 mask bits must be < 32');
  if (bottom.length === 16 && maskBits > 127) throw invalid('IPv6 mask bits must be < 128');

  const top = Uint8Array.from(bottom);
  let hostBits = top.length * 8 - maskBits;
  for (let index = top.length - 1; index >= 0 && hostBits > 0; index--, hostBits -= 8) {
    top[index] = (top[index] ?? 0) | (hostBits >= 8 ? 0xff : (1 << hostBits) - 1);
  }
  return (value) => {
    if (typeof value !== 'string') return false;
    const candidate = parseIpAddress(value);
    return (
      candidate !== undefined &&
      candidate.length === bottom.length &&
      compareBytes(candidate, bottom) >= 0 &&
      compareBytes(candidate, top) <= 0
    );
  };
}
