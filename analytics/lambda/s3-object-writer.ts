/**
 * Writes one S3 object: the one S3 call the analytics side makes. The bucket's default encryption
 * (the hub's KMS key) applies; no key is named here.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface S3ObjectWriterOptions {
  readonly bucket: string;
  /** @default a client for the function's own region and credentials */
  readonly client?: S3Client;
}

export class S3ObjectWriter {
  readonly #client: S3Client;

  constructor(private readonly options: S3ObjectWriterOptions) {
    this.#client = options.client ?? new S3Client({});
  }

  /** PUT s3://bucket/key; S3 replaces the object atomically, so readers see the old or the new one. */
  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }
}
