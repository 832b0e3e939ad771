/** The CLI's commands: one module each, one line here. */
import type { CliCommand } from '../command.ts';
import { dlqCommand } from './dlq.ts';
import { exportCommand } from './export.ts';
import { profileCommand } from './profile.ts';
import { quarantineCommand } from './quarantine.ts';
import { replayCommand } from './replay.ts';
import { retranslateCommand } from './retranslate.ts';
import { sqlCommand } from './sql.ts';

export const commands: readonly CliCommand[] = [
  profileCommand,
  exportCommand,
  sqlCommand,
  dlqCommand,
  replayCommand,
  quarantineCommand,
  retranslateCommand,
];
