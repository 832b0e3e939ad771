/**
 * Where the hub's Firehose emulation puts the records of the raw archive streams: under the data
 * directory, in the partitioning the S3 destination uses in AWS, one file per stream and hour of
 * arrival: `<dataDir>/raw/<connector>/yyyy/MM/dd/HH/<stream>.jsonl` (not gzipped, so a developer can
 * read it). Records are written as Firehose writes them, their bytes concatenated, and flushed to disk
 * (fsync) before the put is answered, as the bus archive and the queue journals are. Partitions older
 * than the retention are deleted at start and every hour, as the bucket's lifecycle rule expires them.
 * With `:memory:` the records live in the process.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HubLogger } from '../log.ts';
import { AppendOnlyFile } from '../storage/append-only-file.ts';

const HOUR_MS = 3_600_000;

/** `yyyy/MM/dd/HH` of an instant, in UTC, as Firehose's `!{timestamp:yyyy/MM/dd/HH}`. */
export function hourPartition(at: number): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}`;
}

function partitionStart(partition: string): number {
  const [year, month, day, hour] = partition.split('/').map(Number);
  return Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour ?? 0);
}

interface MemoryPartition {
  readonly connector: string;
  readonly hourMs: number;
  readonly chunks: Buffer[];
}

export interface RawStoreOptions {
  /** `<dataDir>/raw`, or undefined to keep records in memory. */
  readonly root: string | undefined;
  readonly retentionDays: number;
  readonly log?: HubLogger;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The raw archive's records on the hub's disk (or in memory). */
export class LocalRawStore {
  readonly #root: string | undefined;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #log: HubLogger | undefined;
  readonly #open = new Map<string, AppendOnlyFile>();
  readonly #memory: MemoryPartition[] = [];
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: RawStoreOptions) {
    this.#root = options.root;
    this.#retentionMs = options.retentionDays * 86_400_000;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    this.sweep();
    this.#sweeper = setInterval(() => this.sweep(), HOUR_MS);
    this.#sweeper.unref();
  }

  /**
   * Appends the records of one put to the stream's partition of this hour and resolves once they
   * are on disk.
   */
  async append(connector: string, stream: string, records: readonly Buffer[]): Promise<void> {
    const at = this.#now();
    if (this.#root === undefined) {
      const hourMs = at - (at % HOUR_MS);
      let partition = this.#memory.find((entry) => entry.connector === connector && entry.hourMs === hourMs);
      if (!partition) {
        partition = { connector, hourMs, chunks: [] };
        this.#memory.push(partition);
      }
      partition.chunks.push(...records);
      return;
    }
    const partition = hourPartition(at);
    const path = join(this.#root, connector, partition, `${stream}.jsonl`);
    let file = this.#open.get(path);
    if (!file) {
      await this.#closeEarlierHours(partition);
      file = AppendOnlyFile.open(path);
      this.#open.set(path, file);
    }
    for (const record of records) file.write(record);
    await file.sync();
  }

  /**
   * The records of the partitions from the hour of `from` to the hour after `to`'s (a delivery
   * received just before an hour turned may arrive after it), oldest partition first.
   */
  read(options: { readonly connector?: string; readonly from: number; readonly to: number }): Buffer[] {
    const first = options.from - (options.from % HOUR_MS);
    const last = options.to - (options.to % HOUR_MS) + HOUR_MS;
    if (this.#root === undefined) {
      return this.#memory
        .filter(
          (entry) =>
            (options.connector === undefined || entry.connector === options.connector) &&
            entry.hourMs >= first &&
            entry.hourMs <= last,
        )
        .sort((a, b) => a.hourMs - b.hourMs)
        .flatMap((entry) => entry.chunks);
    }
    const chunks: Buffer[] = [];
    for (const connector of this.#connectors()) {
      if (options.connector !== undefined && connector !== options.connector) continue;
      for (let hour = first; hour <= last; hour += HOUR_MS) {
        const directory = join(this.#root, connector, hourPartition(hour));
        if (!existsSync(directory)) continue;
        for (const file of readdirSync(directory).sort()) chunks.push(readFileSync(join(directory, file)));
      }
    }
    return chunks;
  }

  /** Deletes the partitions whose hour ended more than the retention ago. */
  sweep(): void {
    const cutoff = this.#now() - this.#retentionMs;
    if (this.#root === undefined) {
      for (let index = this.#memory.length - 1; index >= 0; index -= 1) {
        if ((this.#memory[index]?.hourMs ?? 0) + HOUR_MS <= cutoff) this.#memory.splice(index, 1);
      }
      return;
    }
    let removed = 0;
    for (const connector of this.#connectors()) {
      for (const partition of this.#partitions(connector)) {
        if (partitionStart(partition) + HOUR_MS > cutoff) continue;
        const directory = join(this.#root, connector, partition);
        for (const [path, file] of this.#open) {
          if (path.startsWith(directory)) {
            void file.close();
            this.#open.delete(path);
          }
        }
        rmSync(directory, { recursive: true, force: true });
        removed += 1;
        // The day, month and year folders go with their last hour.
        for (
          let parent = dirname(directory);
          parent !== join(this.#root, connector);
          parent = dirname(parent)
        ) {
          if (readdirSync(parent).length > 0) break;
          rmSync(parent, { recursive: true, force: true });
        }
      }
    }
    if (removed > 0) this.#log?.info(`raw archive: removed ${removed} hour(s) past the retention`);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#open.values()].map((file) => file.close()));
    this.#open.clear();
  }

  /** Files of earlier hours are done with: close them (they stay on disk). */
  async #closeEarlierHours(partition: string): Promise<void> {
    const marker = join('/', partition, '/');
    const done = [...this.#open.entries()].filter(([path]) => !path.includes(marker));
    for (const [path] of done) this.#open.delete(path);
    await Promise.all(done.map(([, file]) => file.close()));
  }

  #connectors(): string[] {
    if (this.#root === undefined || !existsSync(this.#root)) return [];
    return readdirSync(this.#root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  }

  /** `yyyy/MM/dd/HH` of every partition of a connector. */
  #partitions(connector: string): string[] {
    const root = this.#root;
    if (root === undefined) return [];
    const level = (path: string) =>
      existsSync(join(root, connector, path))
        ? readdirSync(join(root, connector, path), { withFileTypes: true })
            .filter((entry) => entry.isDirectory() && /^\d+$/.test(entry.name))
            .map((entry) => (path ? `${path}/${entry.name}` : entry.name))
        : [];
    return level('').flatMap(level).flatMap(level).flatMap(level);
  }
}
