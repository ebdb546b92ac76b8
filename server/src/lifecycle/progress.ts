import type { ProgressFn } from './archive.ts';

/**
 * A progress line for long exports on a terminal: rows done, percent and rows per second,
 * redrawn in place on a TTY, or a plain line every few seconds when output goes to a file.
 */
export function terminalProgress(
  out: NodeJS.WriteStream = process.stderr,
  now: () => number = Date.now,
): ProgressFn & { end(): void } {
  const started = new Map<string, number>();
  let lastLabel = '';
  let lastPrint = 0;
  // A phase starts when the previous one last reported (or when the reporter was made).
  let phaseStart = now();
  let open = false;
  const fn: ProgressFn = ({ label, done, total, unit = 'rows' }) => {
    const t = now();
    if (!started.has(label)) started.set(label, phaseStart);
    phaseStart = t;
    const seconds = Math.max((t - started.get(label)!) / 1000, 0.001);
    const pct = total > 0 ? Math.min(100, (done / total) * 100) : 100;
    const line =
      `${label}: ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${unit} ` +
      `(${pct.toFixed(1)}%) ${Math.round(done / seconds).toLocaleString('en')} ${unit}/s`;
    if (out.isTTY) {
      if (label !== lastLabel && open) out.write('\n');
      out.write(`\r${line}\u001b[K`);
      open = true;
    } else if (label !== lastLabel || done >= total || t - lastPrint >= 2_000) {
      out.write(`${line}\n`);
      lastPrint = t;
    }
    lastLabel = label;
  };
  return Object.assign(fn, {
    end() {
      if (open) out.write('\n');
      open = false;
    },
  });
}
