import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'connectors/**/*.test.ts', 'core/**/*.test.ts', 'local/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: {
      TZ: 'UTC',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      CDK_VALIDATION: 'false',
      // Fixtures and the demo journey are dated in the past, so by the real clock their timeline
      // entries are past their TTL: keep the local hub's TTL sweep (local/dynamodb/ttl-sweeper.ts) from
      // deleting them while a test runs. Tests of the sweep set their own interval.
      OMNIHUB_LOCAL_TTL_SWEEP_SECONDS: '86400',
    },
  },
});
