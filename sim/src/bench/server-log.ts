/**
 * What the servers said during a run. Their stdout (pino's JSON lines, at `warn` and above) is
 * kept under bench/results/logs/, and the report counts it by level and by message, so an
 * error that clients only see as `INTERNAL` has its cause next to the figures.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ServerLogSummary {
  files: string[];
  /** Lines per pino level name (warn, error, fatal); lines that are not JSON count as `text`. */
  byLevel: Record<string, number>;
  /** The most frequent messages at error level and above, with the error's own message. */
  topErrors: Array<{ message: string; count: number }>;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

interface PinoLine {
  level?: number;
  msg?: string;
  err?: { type?: string; message?: string };
}

/** One key per kind of error: the log message and the error's class and message. */
function errorKey(line: PinoLine): string {
  const err = line.err;
  const cause = err ? `: ${[err.type, err.message].filter(Boolean).join(' ')}` : '';
  return `${line.msg ?? '(no message)'}${cause}`;
}

export async function summarizeServerLogs(files: string[], top = 5): Promise<ServerLogSummary> {
  const byLevel: Record<string, number> = {};
  const errors = new Map<string, number>();
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const text of lines) {
      if (!text.trim()) continue;
      let line: PinoLine;
      try {
        line = JSON.parse(text) as PinoLine;
      } catch {
        byLevel.text = (byLevel.text ?? 0) + 1;
        continue;
      }
      const level = LEVELS[line.level ?? 0] ?? `level ${line.level}`;
      byLevel[level] = (byLevel[level] ?? 0) + 1;
      if ((line.level ?? 0) >= 50) {
        const key = errorKey(line);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  }
  const topErrors = [...errors]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([message, count]) => ({ message, count }));
  return { files, byLevel, topErrors };
}
