/**
 * The CLI's one table renderer and one progress bar (cli/format.ts), as every command prints them.
 */
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/command.ts';
import { formatResultTable } from '../../cli/commands/sql.ts';
import { ProgressBar, renderTable } from '../../cli/format.ts';
import { main } from '../../cli/main.ts';

const REDRAW = '\u001b[1A\u001b[2K';

function lines(interactive: boolean): { io: Pick<CliIo, 'err' | 'interactive'>; err: string[] } {
  const err: string[] = [];
  return { io: { err: (text) => err.push(text), interactive }, err };
}

describe('CLI: tables', () => {
  it('aligns columns two spaces apart, underlines the header, and leaves no trailing spaces', () => {
    expect(
      renderTable(
        [
          ['ada', 'email', ''],
          ['grace', 'sms', 'STOP'],
        ],
        ['person', 'channel', 'reason'],
      ),
    ).toBe(
      ['person  channel  reason', '------  -------  ------', 'ada     email', 'grace   sms      STOP'].join(
        '\n',
      ),
    );
  });

  it('right-aligns the columns it is told to, the last one too', () => {
    expect(
      renderTable(
        [
          ['profiles', '5 rows', 'profiles.parquet'],
          ['events', '120 rows', 'events.parquet'],
        ],
        undefined,
        ['left', 'right', 'left'],
      ),
    ).toBe(['profiles    5 rows  profiles.parquet', 'events    120 rows  events.parquet'].join('\n'));
    expect(
      renderTable(
        [
          ['a', '7'],
          ['b', '12'],
        ],
        ['x', 'n'],
        ['left', 'right'],
      ),
    ).toBe(['x   n', '-  --', 'a   7', 'b  12'].join('\n'));
  });

  it('prints a SQL result with NULLs, numbers to the right, and the row count', () => {
    const result = {
      columns: ['name', 'n'],
      types: ['VARCHAR', 'BIGINT'],
      rows: [
        ['a, "quoted"', 5],
        [null, 120],
      ],
    };
    expect(formatResultTable(result)).toBe(
      ['name           n', '-----------  ---', 'a, "quoted"    5', 'NULL         120', '(2 rows)'].join('\n'),
    );
    expect(formatResultTable({ columns: ['n'], types: ['BIGINT'], rows: [[1]] })).toBe(
      ['n', '-', '1', '(1 row)'].join('\n'),
    );
  });

  it('lists the commands in the help as a table', async () => {
    const out: string[] = [];
    const io: CliIo = { out: (text) => out.push(text), err: () => {}, interactive: false, env: {} };
    expect(await main(['help'], io)).toBe(0);
    const [, commands = ''] = out.join('\n').split('Commands:\n');
    expect(commands.split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^ {2}profile {2,}Show a unified profile/),
      expect.stringMatching(/^ {2}export {3,}Write the profiles/),
    ]);
  });
});

describe('CLI: the progress bar', () => {
  it('on a terminal, draws a bar and redraws it in place, only when it changed', () => {
    const { io, err } = lines(true);
    const progress = new ProgressBar(io, 10);
    progress.update('redriven', { done: 3, total: 10 });
    progress.update('redriven', { done: 3, total: 10 });
    progress.update('redriven', { done: 10, total: 10 });
    progress.done('Redrove 10 message(s).');
    expect(err).toEqual([
      '[###-------]  30% redriven 3/10',
      `${REDRAW}[##########] 100% redriven 10/10`,
      `${REDRAW}Redrove 10 message(s).`,
    ]);
  });

  it('on a terminal, shows a step without a known end as words only, and clears without a trace', () => {
    const { io, err } = lines(true);
    const progress = new ProgressBar(io, 10);
    progress.update('profile items', { done: 100 });
    progress.update('RUNNING', { fraction: 0.5, detail: 'events up to 2025-06-04T00:00:00.000Z' });
    progress.clear();
    progress.clear();
    expect(err).toEqual([
      'profile items 100',
      `${REDRAW}[#####-----]  50% RUNNING events up to 2025-06-04T00:00:00.000Z`,
      `${REDRAW}\u001b[1A`,
    ]);
  });

  it('in a log, writes a line when the step changes and each tenth further, never one per item', () => {
    const { io, err } = lines(false);
    const progress = new ProgressBar(io);
    progress.update('profile items', { done: 100 });
    progress.update('profile items', { done: 200 });
    for (let done = 1; done <= 40; done++) progress.update('events', { done, total: 40 });
    progress.update('RUNNING', { fraction: 0.05, detail: 'no event replayed yet' });
    progress.update('COMPLETED', { fraction: 1, detail: 'events up to 2025-06-08T00:00:00.000Z' });
    progress.done('exported to ./omnihub-export');
    expect(err).toEqual([
      'profile items 100',
      'events 1/40',
      'events 4/40',
      'events 8/40',
      'events 12/40',
      'events 16/40',
      'events 20/40',
      'events 24/40',
      'events 28/40',
      'events 32/40',
      'events 36/40',
      'events 40/40',
      'RUNNING no event replayed yet (5%)',
      'COMPLETED events up to 2025-06-08T00:00:00.000Z (100%)',
      'exported to ./omnihub-export',
    ]);
  });
});
