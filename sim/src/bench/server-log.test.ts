import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeServerLogs } from './server-log.ts';

const dir = await mkdtemp(join(tmpdir(), 'server-log-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const line = (level: number, msg: string, err?: { type: string; message: string }) =>
  JSON.stringify({ level, time: 1, pid: 1, msg, ...(err ? { err } : {}) });

describe('server log summary', () => {
  it('counts lines by level across files and ranks errors by message and cause', async () => {
    const a = join(dir, 'p0.log');
    const b = join(dir, 'p1.log');
    const timeout = { type: 'Error', message: 'timeout exceeded when trying to connect' };
    await writeFile(
      a,
      [
        line(40, 'slow sweep'),
        line(50, 'websocket location update failed', timeout),
        line(50, 'websocket location update failed', timeout),
        'node: warning printed as plain text',
        '',
      ].join('\n'),
    );
    await writeFile(
      b,
      [
        line(50, 'websocket location update failed', timeout),
        line(50, 'websocket message failed', { type: 'TypeError', message: 'x is undefined' }),
        line(60, 'uncaught'),
      ].join('\n'),
    );
    const s = await summarizeServerLogs([a, b]);
    expect(s.byLevel).toEqual({ warn: 1, error: 4, fatal: 1, text: 1 });
    expect(s.topErrors).toEqual([
      {
        message: 'websocket location update failed: Error timeout exceeded when trying to connect',
        count: 3,
      },
      { message: 'websocket message failed: TypeError x is undefined', count: 1 },
      { message: 'uncaught', count: 1 },
    ]);
  });

  it('keeps only the most frequent errors', async () => {
    const f = join(dir, 'many.log');
    await writeFile(f, ['a', 'b', 'b', 'c', 'c', 'c'].map((m) => line(50, m)).join('\n'));
    const s = await summarizeServerLogs([f], 2);
    expect(s.topErrors.map((e) => e.message)).toEqual(['c', 'b']);
  });
});
