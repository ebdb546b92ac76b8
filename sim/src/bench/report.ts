import { readFile, writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';
import type { LatencySummary } from '../stats.ts';
import { describeFloor } from './floor.ts';
import type { LoopDelay } from './protocol.ts';
import type { BenchReport } from './run.ts';

const f = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));

function latencyTable(rows: Record<string, LatencySummary>): string {
  const lines = [
    '| latency (ms) | count | p50 | p90 | p95 | p99 | p99.9 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, s] of Object.entries(rows)) {
    lines.push(
      `| ${name} | ${s.count} | ${f(s.p50)} | ${f(s.p90)} | ${f(s.p95)} | ${f(s.p99)} | ${f(s.p999)} | ${f(s.max)} |`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const res = r.resources;
  const lines = [
    `### ${r.scenario} — ${r.mode}, ${r.processes} server process(es)${r.label ? ` (${r.label})` : ''}`,
    '',
    `Run ${r.startedAt} on ${m.nproc} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; load generated on the same machine by ${r.loadGenerators} process(es); open-file limit ${r.openFileLimit} per process.`,
    ...(r.transportFloor ? [`Transport floor: ${describeFloor(r.transportFloor)}.`] : []),
    `Parameters: ${Object.entries(r.params)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}.`,
    '',
    '| target | wanted | measured | met |',
    '| --- | --- | --- | --- |',
    ...r.targets.map(
      (t) =>
        `| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? '-' : t.met ? 'yes' : '**no**'} |`,
    ),
    '',
    latencyTable(r.latencyMs),
    '',
    `| process group (measured window; ${m.nproc} cores = ${m.nproc * 100} %) | CPU, % of one core | peak RSS (MiB) |`,
    '| --- | ---: | ---: |',
    ...Object.entries(res)
      .filter(([name, u]) => u.peakRssMiB > 0 || name === 'machine' || name === 'other')
      .map(
        ([name, u]) =>
          `| ${name === 'other' ? 'other processes on the machine' : name === 'machine' ? 'whole machine' : name} | ${u.cpuPercent} | ${name === 'server' ? `${u.peakProcessHwmMiB} (high-water mark per process)` : u.peakRssMiB || '-'} |`,
      ),
    '',
  ];
  const loops = r.loopDelayMs;
  if (loops) {
    const show = (d: LoopDelay | null) => (d ? `${d.p50} / ${d.p99} / ${d.max}` : 'not read');
    const worst = loops.loadGenerators.reduce(
      (w, d) => ({
        p50: Math.max(w.p50, d.p50),
        p99: Math.max(w.p99, d.p99),
        max: Math.max(w.max, d.max),
      }),
      { p50: 0, p99: 0, max: 0 },
    );
    lines.push(
      `Event-loop delay in the window (ms, p50 / p99 / max): server${loops.servers.length > 1 ? 's' : ''} ${loops.servers.map(show).join(', ')}; load generators, worst of ${loops.loadGenerators.length}: ${show(worst)}.`,
      '',
    );
  }
  const ingest = r.serverIngestMs;
  if (ingest) {
    const bound = (ms: number) => (ms === Infinity ? 'above the highest bucket' : `≤ ${ms}`);
    lines.push(
      `Servers' own time per location update, read off the socket to ack written (bucket bounds, ms): ${Object.entries(
        ingest,
      )
        .map(([q, ms]) => `${q} ${bound(ms)}`)
        .join(', ')}.`,
      '',
    );
  }
  const outcomes = r.serverLocationOutcomes;
  if (outcomes) {
    lines.push(
      `Servers' location reports in the window by outcome: ${Object.entries(outcomes)
        .map(([outcome, n]) => `${outcome} ${n}`)
        .join(', ')}.`,
      '',
    );
  }
  const vacuum = r.autovacuumStandIn;
  if (vacuum) {
    lines.push(
      `PostgreSQL ran with autovacuum off; the bench did its work on its own database once a minute: ${vacuum.rounds} rounds, ${vacuum.vacuums} tables vacuumed and ${vacuum.analyzes} analyzed in ${vacuum.seconds} s${vacuum.failures ? `, ${vacuum.failures} rounds failed` : ''}.`,
      '',
    );
  }
  if (r.serverExits?.length) {
    lines.push(
      `**A server process exited during the run (${r.serverExits.join(', ')}): these figures are not the platform's.**`,
      '',
    );
  }
  const said = r.serverLog;
  if (said) {
    const levels = Object.entries(said.byLevel);
    lines.push(
      `Servers' log over the whole run (${said.files.join(', ')}; not committed): ${levels.length ? levels.map(([level, n]) => `${n} ${level}`).join(', ') : 'nothing at warn or above'}${said.topErrors.length ? `; most frequent errors: ${said.topErrors.map((e) => `${e.count} × ${e.message}`).join('; ')}` : ''}.`,
      '',
    );
  }
  const results = { ...r.results };
  delete results.counters;
  lines.push('```json', JSON.stringify(results, null, 1), '```', '');
  return lines.join('\n');
}

/** Replaces (or appends) the section of `key` between its markers in docs/benchmarks.md. */
export async function updateDocs(path: string, key: string, markdown: string): Promise<void> {
  let text = await readFile(path, 'utf8').catch(() => '# Benchmarks\n\n## Latest results\n');
  const start = `<!-- bench:${key}:start -->`;
  const end = `<!-- bench:${key}:end -->`;
  const block = `${start}\n\n${markdown.trim()}\n\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else {
    const anchor = '<!-- bench:results -->';
    const k = text.indexOf(anchor);
    text =
      k >= 0
        ? `${text.slice(0, k + anchor.length)}\n\n${block}${text.slice(k + anchor.length)}`
        : `${text.trimEnd()}\n\n${block}\n`;
  }
  await writeFormatted(path, text);
}

/** Writes `text` formatted the way `npm run format:check` expects (parser from the name). */
export async function writeFormatted(path: string, text: string): Promise<void> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  await writeFile(path, await prettier.format(text, { ...options, filepath: path }));
}
