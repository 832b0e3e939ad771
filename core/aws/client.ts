/**
 * What the clients in this folder are built from: an {@link AwsJsonClient} given outright, or one
 * made for their service from the environment, credentials and transport given.
 */
import {
  type AwsCredentials,
  type AwsHttpTransport,
  AwsJsonClient,
  type AwsJsonService,
} from './json-client.ts';

export interface AwsClientOptions {
  /** @default an {@link AwsJsonClient} of the client's service, built from the other options */
  readonly client?: AwsJsonClient;
  /** Where endpoint (`AWS_ENDPOINT_URL_<SERVICE>`), region and credentials are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly credentials?: () => Promise<AwsCredentials>;
  /** @default node:http(s) with keep-alive (tests and benchmarks wrap it) */
  readonly transport?: AwsHttpTransport;
}

/** The given client, or a new one for `service` from the options. */
export function jsonClientOf(service: AwsJsonService, options: AwsClientOptions): AwsJsonClient {
  return (
    options.client ??
    new AwsJsonClient(service, {
      ...(options.env ? { env: options.env } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.transport ? { transport: options.transport } : {}),
    })
  );
}
