/**
 * The MD5 digests SQS returns (`MD5OfBody`, `MD5OfMessageAttributes`). The SDK verifies
 * `MD5OfMessageBody` on SendMessage/SendMessageBatch and `MD5OfBody` on ReceiveMessage, so they must
 * be computed exactly as SQS does.
 */
import { createHash } from 'node:crypto';

/** A message attribute in the SQS wire shape (binary values are base64 strings on the wire). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

/**
 * SQS's digest of message attributes: attributes sorted by name; for each, the length-prefixed
 * (4-byte big-endian) UTF-8 name and data type, then a transport byte (1 = string/number, 2 = binary)
 * and the length-prefixed value.
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash('md5');
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name];
    if (!attribute) continue;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(attribute.DataType, 'utf8')));
    if (attribute.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      hash.update(lengthPrefixed(Buffer.from(attribute.BinaryValue, 'base64')));
    } else {
      hash.update(Buffer.from([1]));
      hash.update(lengthPrefixed(Buffer.from(attribute.StringValue ?? '', 'utf8')));
    }
  }
  return hash.digest('hex');
}
