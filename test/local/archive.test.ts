/**
 * The bus archive on its own: what it answers before and after a restart, with events kept in memory
 * as their JSON text (archive.ts) and parsed only when returned.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventArchive } from '../../local/eventbridge/archive.ts';
import { buildEvent, type EventBridgeEvent } from '../../local/eventbridge/event.ts';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function archivePath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'omnihub-archive-'));
  directories.push(directory);
  return join(directory, 'archive', 'events.jsonl');
}

function event(detailType: string, time: string, detail: Record<string, unknown>): EventBridgeEvent {
  return buildEvent({
    source: 'omnihub.test',
    detailType,
    detail,
    resources: [],
    time: new Date(time),
    account: '000000000000',
    region: 'us-east-1',
  });
}

describe('EventArchive', () => {
  it('answers queries, replay selections and its size the same before and after a restart', async () => {
    const path = archivePath();
    const events = [
      event('order.placed', '2026-01-01T10:00:03Z', { n: 1, name: 'Zoë', nested: { list: [1, 'two'] } }),
      event('customer.upserted', '2026-01-01T10:00:01Z', { n: 2 }),
      event('order.placed', '2026-01-01T10:00:02Z', { n: 3 }),
      event('order.placed', '2026-01-01T10:00:02Z', { n: 4 }),
    ];
    const received = ['2026-01-01T10:00:10.000Z', '2026-01-01T10:00:11.000Z', '2026-01-01T10:00:12.000Z'];
    const archive = EventArchive.open(path, 30, undefined, Date.parse('2026-01-02T00:00:00Z'));
    events.forEach((item, index) => {
      archive.append(item, new Date(received[Math.min(index, 2)] as string));
    });
    await archive.persist();

    const answers = (subject: EventArchive) => ({
      size: subject.size,
      sizeBytes: subject.sizeBytes,
      orders: subject.query({ detailType: 'order.placed', limit: 2 }),
      since: subject.query({ since: Date.parse('2026-01-01T10:00:11.000Z'), limit: 10 }),
      // By the event's own time, ties in arrival order; the end is exclusive.
      between: subject
        .eventsBetween(Date.parse('2026-01-01T10:00:01Z'), Date.parse('2026-01-01T10:00:03Z'))
        .map((item) => item.detail.n),
    });
    const before = answers(archive);
    expect(before.size).toBe(4);
    expect(before.sizeBytes).toBe(
      events.reduce((sum, item) => sum + Buffer.byteLength(JSON.stringify(item)), 0),
    );
    expect(before.orders).toEqual({
      events: [
        { receivedAt: '2026-01-01T10:00:12.000Z', event: events[2] },
        { receivedAt: '2026-01-01T10:00:12.000Z', event: events[3] },
      ],
      truncated: true,
    });
    expect(before.since.events.map((item) => item.event)).toEqual(events.slice(1));
    expect(before.since.truncated).toBe(false);
    expect(before.between).toEqual([2, 3, 4]);
    await archive.close();

    const reopened = EventArchive.open(path, 30, undefined, Date.parse('2026-01-02T00:00:00Z'));
    expect(answers(reopened)).toEqual(before);
    await reopened.close();
  });

  it('drops events past retention when it opens, from memory and from the file', async () => {
    const path = archivePath();
    const archive = EventArchive.open(path, 1, undefined, Date.parse('2026-01-01T00:00:00Z'));
    archive.append(event('old', '2026-01-01T00:00:00Z', {}), new Date('2026-01-01T00:00:00.000Z'));
    archive.append(event('new', '2026-01-02T12:00:00Z', {}), new Date('2026-01-02T12:00:00.000Z'));
    await archive.close();

    const later = EventArchive.open(path, 1, undefined, Date.parse('2026-01-03T06:00:00Z'));
    expect(later.query({ limit: 10 }).events.map((item) => item.event['detail-type'])).toEqual(['new']);
    expect(later.size).toBe(1);
    await later.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
