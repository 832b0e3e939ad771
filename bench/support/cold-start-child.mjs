/**
 * Runs in a fresh `node` process for the cold-start benchmark: imports a Lambda bundle, takes its
 * `handler` (init), then invokes it once with an event that needs no network (first call), and
 * reports both durations, measured with `process.hrtime` from just before the import, on stderr.
 *
 * Usage: node cold-start-child.mjs <bundle.mjs> <event JSON | "none">
 */
const start = process.hrtime.bigint();
const module = await import(process.argv[2]);
const handler = module.handler;
if (typeof handler !== 'function') throw new Error(`${process.argv[2]} exports no handler`);
const init = process.hrtime.bigint();
const context = {
  awsRequestId: 'cold-start',
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
};
let outcome = 'not invoked';
if (process.argv[3] !== 'none')
  try {
    const result = await handler(JSON.parse(process.argv[3] ?? '{}'), context);
    outcome = String(result?.statusCode ?? 'ok');
  } catch (error) {
    outcome = `threw ${error?.name ?? 'error'}`;
  }
const first = process.hrtime.bigint();
process.stderr.write(
  `@@cold-start ${JSON.stringify({ initMs: Number(init - start) / 1e6, firstCallMs: Number(first - start) / 1e6, outcome })}\n`,
);
