import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import { writeHistoryBatch, type HistoryPoint } from './drivers.repository.ts';

const FLUSH_EVERY_MS = 2_000;
const FLUSH_AT_POINTS = 1_000;
/** Beyond this many waiting points (database down), the oldest are dropped, not the process. */
const MAX_BUFFERED = 100_000;

/**
 * Collects sampled location points off the hot path and writes them in batches, so a location
 * update never waits for the database.
 */
export class HistoryWriter {
  private buffer: HistoryPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  add(point: HistoryPoint): void {
    this.buffer.push(point);
    if (this.buffer.length > MAX_BUFFERED) this.buffer.splice(0, this.buffer.length - MAX_BUFFERED);
    if (this.buffer.length >= FLUSH_AT_POINTS) void this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes what is buffered; concurrent calls share one write. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = writeHistoryBatch(this.db, batch)
      .catch((err: unknown) => {
        this.log.warn({ err, points: batch.length }, 'location history write failed; will retry');
        this.buffer = batch.concat(this.buffer);
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
