#!/usr/bin/env node
// `npx omnihub <command>`: the operator CLI. In the repository it runs the sources (cli/main.ts) through
// tsx like the rest of the repository; installed from npm, where only the compiled code ships, it runs
// dist/cli/main.js.
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const sources = new URL('../cli/main.ts', import.meta.url);
let cli;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(sources.href);
} else {
  cli = await import('../dist/cli/main.js');
}
process.exitCode = await cli.main(process.argv.slice(2));
