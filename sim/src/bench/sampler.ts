import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;

interface Sample {
  at: number;
  ticks: number;
  rssKiB: number;
}

function readProc(pid: number): { ticks: number; rssKiB: number; hwmKiB: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { ticks, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    return null;
  }
}

/** Processes whose command name is `comm` (e.g. every PostgreSQL backend). */
export function pidsByName(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface GroupUsage {
  /** Average CPU over the window, in % of one core (200 % = both cores of a 2-core box). */
  cpuPercent: number;
  /** Highest sampled resident set size of the group (sum over its processes), MiB. */
  peakRssMiB: number;
  /** Highest VmHWM of any single process of the group, MiB (the kernel's own peak). */
  peakProcessHwmMiB: number;
}

/**
 * Samples CPU time and resident memory of groups of processes every second from /proc. A
 * group is a fixed pid list or a name looked up at each sample (PostgreSQL forks backends).
 */
export class ResourceSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly first = new Map<string, Map<number, Sample>>();
  private readonly last = new Map<string, Map<number, Sample>>();
  private readonly peakRss = new Map<string, number>();
  private readonly peakHwm = new Map<string, number>();
  private windowStart = 0;
  private machineStart = { busy: 0, total: 0 };

  constructor(private readonly groups: Record<string, () => number[]>) {}

  start(): void {
    this.first.clear();
    this.last.clear();
    this.peakRss.clear();
    this.peakHwm.clear();
    this.windowStart = Date.now();
    this.machineStart = machineTicks();
    this.sample();
    this.timer = setInterval(() => this.sample(), 1_000);
  }

  stop(): Record<string, GroupUsage> {
    clearInterval(this.timer);
    this.sample();
    const seconds = (Date.now() - this.windowStart) / 1000;
    const out: Record<string, GroupUsage> = {};
    for (const name of Object.keys(this.groups)) {
      const first = this.first.get(name) ?? new Map<number, Sample>();
      const last = this.last.get(name) ?? new Map<number, Sample>();
      let ticks = 0;
      for (const [pid, s] of last) ticks += s.ticks - (first.get(pid)?.ticks ?? s.ticks);
      out[name] = {
        cpuPercent: Math.round((ticks / HZ / Math.max(0.001, seconds)) * 1000) / 10,
        peakRssMiB: Math.round((this.peakRss.get(name) ?? 0) / 102.4) / 10,
        peakProcessHwmMiB: Math.round((this.peakHwm.get(name) ?? 0) / 102.4) / 10,
      };
    }
    const m = machineTicks();
    const busy = m.busy - this.machineStart.busy;
    const ours = Object.values(out).reduce((a, u) => a + u.cpuPercent, 0);
    // Everything on the machine, in % of one core; "other" is what none of our groups used
    // (other people's builds and tests on a shared box show up here).
    const machine = Math.round((busy / HZ / Math.max(0.001, seconds)) * 1000) / 10;
    out.machine = { cpuPercent: machine, peakRssMiB: 0, peakProcessHwmMiB: 0 };
    out.other = {
      cpuPercent: Math.max(0, Math.round((machine - ours) * 10) / 10),
      peakRssMiB: 0,
      peakProcessHwmMiB: 0,
    };
    return out;
  }

  private sample(): void {
    const at = Date.now();
    for (const [name, pids] of Object.entries(this.groups)) {
      const first = this.first.get(name) ?? new Map<number, Sample>();
      const last = this.last.get(name) ?? new Map<number, Sample>();
      let rss = 0;
      for (const pid of pids()) {
        const p = readProc(pid);
        if (!p) continue;
        const s = { at, ticks: p.ticks, rssKiB: p.rssKiB };
        if (!first.has(pid)) first.set(pid, s);
        last.set(pid, s);
        rss += p.rssKiB;
        this.peakHwm.set(name, Math.max(this.peakHwm.get(name) ?? 0, p.hwmKiB));
      }
      this.first.set(name, first);
      this.last.set(name, last);
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, rss));
    }
  }
}
