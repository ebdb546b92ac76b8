import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { ProgressFn } from '../lifecycle/archive.ts';
import type { Checkpoint } from '../lifecycle/common.ts';
import type { ObjectStore } from '../lifecycle/store.ts';

/** What a job gets to work with, on the scheduler or from `npm run jobs`. */
export interface JobContext {
  db: Db;
  config: Config;
  log: Logger;
  /** The archive store; throws when none is configured. */
  store(): Promise<ObjectStore>;
  /** Report what would happen and change nothing: no row, no partition, no object. */
  dryRun: boolean;
  now: number;
  progress?: ProgressFn;
  /** Call between batches: throws when the job must stop (lease lost, server shutting down). */
  checkpoint: Checkpoint;
}

export interface JobResult {
  summary: string;
  details?: unknown;
  /** Part of the work failed (and was left as it was): the run is recorded as failed. */
  failed?: boolean;
}

/**
 * A periodic job. Every job is idempotent and safe to run again after a crash at any point:
 * destructive steps are single transactions that first check what they remove is what was
 * archived, and archives are written under keys derived from their content.
 */
export interface Job {
  name: string;
  description: string;
  /** Runs when the last successful run started at least this long ago. */
  everyMs: number;
  /** Uses the archive store: the scheduler leaves it out when none is configured. */
  needsStore?: boolean;
  run(ctx: JobContext): Promise<JobResult>;
}

export const HOUR_MS = 3_600_000;
