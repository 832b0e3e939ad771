/** The CLI's commands: one module each, one line here. */
import type { CliCommand } from '../command.ts';
import { dlqCommand } from './dlq.ts';
import { profileCommand } from './profile.ts';

export const commands: readonly CliCommand[] = [profileCommand, dlqCommand];
