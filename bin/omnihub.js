#!/usr/bin/env node
// `npx omnihub <command>`: the operator CLI (cli/main.ts), run through tsx like the rest of the repo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
