/**
 * Test workers are throwaway processes: clear the AWS and Omnihub variables a developer's shell may
 * carry (profiles, endpoints, region), so the hub applies its own defaults and the tests are deterministic.
 */
export function clearAwsAndOmnihubEnvironment(): void {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_') || name.startsWith('OMNIHUB_')) delete process.env[name];
  }
}
