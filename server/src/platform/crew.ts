/**
 * Workers that may start more workers while they run (the dispatch sweep's claimers): `done()`
 * waits for every one, including those that joined while it waited, and rejects with the first
 * failure once all have ended.
 *
 * Each worker's failure is caught the moment it happens. Awaiting `Promise.allSettled` over the
 * workers known so far does not do that: a worker that joins meanwhile and fails before the
 * next round is a rejection nobody handles yet, and Node ends the process for it (a dispatch
 * sweep did, on a breaker timeout, in an orders benchmark).
 */
export class Crew {
  private readonly workers: Array<Promise<void>> = [];
  private failure: { err: unknown } | null = null;

  /** `onFailure` runs at once when this worker fails, e.g. to tell the others to stop. */
  start(work: () => Promise<void>, onFailure?: (err: unknown) => void): void {
    this.workers.push(
      work().catch((err: unknown) => {
        this.failure ??= { err };
        onFailure?.(err);
      }),
    );
  }

  /** Workers started so far, ended or not. */
  get size(): number {
    return this.workers.length;
  }

  async done(): Promise<void> {
    let seen = 0;
    while (seen < this.workers.length) {
      seen = this.workers.length;
      await Promise.all(this.workers);
    }
    if (this.failure) throw this.failure.err;
  }
}
