import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Crew } from './crew.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('Crew', () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', record);
  });
  afterEach(() => void process.off('unhandledRejection', record));

  it('waits for workers that joined while it waited', async () => {
    const crew = new Crew();
    const ended: string[] = [];
    crew.start(async () => {
      await sleep(5);
      crew.start(async () => {
        await sleep(30);
        ended.push('second');
      });
      ended.push('first');
    });
    await crew.done();
    expect(ended).toEqual(['first', 'second']);
    expect(crew.size).toBe(2);
  });

  it('leaves no failure unhandled while the first worker still runs, and reports it once all end', async () => {
    const crew = new Crew();
    const told: unknown[] = [];
    let firstEnded = false;
    crew.start(async () => {
      await sleep(5); // joins after done() has begun to wait, as a claimer joins after its lease
      crew.start(
        () => Promise.reject(new Error('timed out')),
        (err) => told.push(err),
      );
      await sleep(50); // the joined worker fails meanwhile
      firstEnded = true;
    });
    const done = crew.done();
    await sleep(20);
    expect(told).toEqual([new Error('timed out')]);
    expect(unhandled).toEqual([]);
    await expect(done).rejects.toThrow('timed out');
    expect(firstEnded).toBe(true);
  });

  it('reports the first failure when several fail', async () => {
    const crew = new Crew();
    crew.start(() => Promise.reject(new Error('one')));
    crew.start(async () => {
      await sleep(5);
      throw new Error('two');
    });
    await expect(crew.done()).rejects.toThrow('one');
  });
});
