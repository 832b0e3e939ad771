/**
 * `npx omnihub <command> [options]`. Exit codes: 0 done, 1 failed, 2 wrong usage.
 */
import { type CliCommand, type CliIo, UsageError } from './command.ts';
import { commands } from './commands/index.ts';
import { indent, renderTable } from './format.ts';

function helpText(): string {
  return [
    'Usage: omnihub <command> [options]',
    '',
    'Commands:',
    indent(renderTable(commands.map((command) => [command.name, command.summary]))),
    '',
    'Every command talks to the hub at --api <url>, else OMNIHUB_API_URL, else the local hub',
    '(http://127.0.0.1:$PORT, or :3000).',
    '',
    'Run `omnihub <command> --help` for its options.',
  ].join('\n');
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    interactive: Boolean(process.stderr.isTTY),
    env: process.env,
  };
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.out(helpText());
    return name === undefined ? 2 : 0;
  }
  const command: CliCommand | undefined = commands.find((candidate) => candidate.name === name);
  if (!command) {
    io.err(`omnihub: unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`omnihub ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    io.err(`omnihub ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
