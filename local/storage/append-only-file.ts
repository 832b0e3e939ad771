/**
 * Durable JSON-lines files for the queue journals and the event archive.
 *
 * Writes are synchronous `write(2)` calls: once `append` returns, the line is in the kernel's page
 * cache and survives the process being killed (SIGKILL, crash). `sync()` adds `fsync(2)` so the line
 * also survives a power loss or kernel crash; concurrent callers share one fsync (group commit), so a
 * burst of webhooks does not pay one disk flush each.
 */
import {
  closeSync,
  existsSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Flushes a directory entry (a rename or a new file) to disk; Linux needs this for a durable rename. */
export function syncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open a directory for fsync; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An append-only file of lines, opened for the hub's lifetime. */
export class AppendOnlyFile {
  private appended = 0;
  private synced = 0;
  private syncInFlight: Promise<void> | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Opens (creating it and its directory when missing) a file for appending. */
  static open(path: string): AppendOnlyFile {
    const directory = dirname(path);
    mkdirSync(directory, { recursive: true });
    const created = !existsSync(path);
    const file = new AppendOnlyFile(path, openSync(path, 'a'));
    if (created) syncDirectory(directory);
    return file;
  }

  /** Appends one line (a `\n` is added). The line survives a process crash once this returns. */
  append(line: string): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    writeFully(this.fd, `${line}\n`);
    this.appended += 1;
  }

  /** Appends bytes exactly as given (records that carry their own delimiters, as Firehose writes them). */
  write(bytes: Buffer): void {
    if (this.closed) throw new Error(`${this.path} is closed`);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    this.appended += 1;
  }

  /** Resolves once every line appended before the call is on disk (fsync), sharing in-flight flushes. */
  async sync(): Promise<void> {
    const target = this.appended;
    while (this.synced < target) {
      if (!this.syncInFlight) {
        const upTo = this.appended;
        this.syncInFlight = fsyncAsync(this.fd)
          .then(() => {
            this.synced = Math.max(this.synced, upTo);
          })
          .finally(() => {
            this.syncInFlight = undefined;
          });
      }
      await this.syncInFlight;
    }
  }

  /** fsync now, blocking: for the rare paths that must order writes across two files on disk. */
  syncBlocking(): void {
    fsyncSync(this.fd);
    this.synced = this.appended;
  }

  /** Flushes everything and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.syncInFlight?.catch(() => undefined);
    this.closed = true;
    fsyncSync(this.fd);
    // A caller still waiting in sync() for lines appended before now finds them flushed.
    this.synced = this.appended;
    closeSync(this.fd);
  }
}

/**
 * Reads a JSON-lines file. A line that does not parse is reported through `onCorruptLine` and
 * skipped: the last line of a file can be cut short when the process died in the middle of a write,
 * and such a line was never acknowledged to anyone.
 */
export function readJsonLines(path: string, onCorruptLine: (lineNumber: number) => void): unknown[] {
  if (!existsSync(path)) return [];
  const records: unknown[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      records.push(JSON.parse(line));
    } catch {
      onCorruptLine(index + 1);
    }
  });
  return records;
}

/**
 * Replaces a file's content atomically and durably: write a temporary sibling, fsync it, rename it
 * over the original, fsync the directory. A crash at any point leaves either the old or the new file.
 */
export function replaceFileDurably(path: string, lines: readonly string[]): void {
  const directory = dirname(path);
  mkdirSync(directory, { recursive: true });
  const temporary = `${path}.compacting`;
  const fd = openSync(temporary, 'w');
  try {
    if (lines.length > 0) writeFully(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(directory);
}
