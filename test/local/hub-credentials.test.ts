/**
 * The credentials the hub's handlers sign with are the hub's own, whatever the shell exports (those
 * are for AWS), and the shell's are back once the hub stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalHub } from '../../local/hub.ts';
import { LOCAL_HUB_CREDENTIALS } from '../../local/hub-environment.ts';
import { clearAwsAndOmnihubEnvironment } from './support/environment.ts';
import { testTopology } from './support/test-topology.ts';

const SHELL = { AWS_ACCESS_KEY_ID: 'AKIDSHELL', AWS_SECRET_ACCESS_KEY: 'shell', AWS_SESSION_TOKEN: 'token' };

afterEach(() => clearAwsAndOmnihubEnvironment());

describe('Local hub: its credentials', () => {
  it("signs its handlers' calls with the hub's credentials, not the shell's, and restores the shell's on stop", async () => {
    clearAwsAndOmnihubEnvironment();
    Object.assign(process.env, SHELL);
    const hub = await startLocalHub({
      topology: testTopology(),
      port: 0,
      dataDir: ':memory:',
      consumers: 'paused',
      env: { TESTSHOP_WEBHOOK_SECRET: 'local-secret' },
      log: () => {},
    });
    try {
      expect({
        id: process.env.AWS_ACCESS_KEY_ID,
        secret: process.env.AWS_SECRET_ACCESS_KEY,
        token: process.env.AWS_SESSION_TOKEN,
      }).toEqual({
        id: LOCAL_HUB_CREDENTIALS.accessKeyId,
        secret: LOCAL_HUB_CREDENTIALS.secretAccessKey,
        token: undefined,
      });
      // The handler's PutEvents goes through the hub's signature check.
      const response = await fetch(`${hub.url}/webhooks/testshop`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'cred-1' }),
      });
      expect(response.status).toBe(200);
      expect(hub.health().archivedEvents).toBe(1);
    } finally {
      await hub.stop();
    }
    expect({
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: process.env.AWS_SESSION_TOKEN,
    }).toEqual(SHELL);
  });
});
