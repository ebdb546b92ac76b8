import { DAY_MS } from './common.ts';
import type { ObjectStore } from './store.ts';

/**
 * Deletes archive sets past their retention in the object store (design: orders 7 years, audit
 * rows 2 years; daily location aggregates go after 30 days like everything about locations).
 * A set's manifest goes first, so an interrupted deletion leaves no set that looks complete; the
 * rest of its objects are still listed, and deleted, by the next run.
 */
export interface ArchiveExpiryOptions {
  ordersYears: number;
  auditYears: number;
  locationDays: number;
  now?: number;
  dryRun?: boolean;
}

export interface ExpiredSet {
  folder: string;
  objects: number;
}

const addYears = (t: number, years: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear() + years, d.getUTCMonth(), d.getUTCDate());
};

/** When the period a folder holds ends, or null for a folder this job does not manage. */
function periodEnd(kind: string, period: string): number | null {
  if (kind === 'orders') {
    const m = /^(\d{4})-(\d{2})$/.exec(period);
    return m ? Date.UTC(Number(m[1]), Number(m[2]), 1) : null;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(period);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY_MS : null;
}

export async function expireArchives(
  store: ObjectStore,
  opts: ArchiveExpiryOptions,
): Promise<ExpiredSet[]> {
  const now = opts.now ?? Date.now();
  const classes: Array<{ prefix: string; kind: string; expired: (end: number) => boolean }> = [
    { prefix: 'orders/', kind: 'orders', expired: (end) => addYears(end, opts.ordersYears) <= now },
    {
      prefix: 'audit/order_events/',
      kind: 'audit',
      expired: (end) => addYears(end, opts.auditYears) <= now,
    },
    {
      prefix: 'locations/',
      kind: 'locations',
      expired: (end) => end + opts.locationDays * DAY_MS <= now,
    },
  ];
  const out: ExpiredSet[] = [];
  for (const c of classes) {
    const groups = new Map<string, string[]>();
    for (const { key } of await store.list(c.prefix)) {
      const period = key.slice(c.prefix.length).split('/')[0]!;
      const end = periodEnd(c.kind, period);
      if (end === null || !c.expired(end)) continue;
      const folder = c.prefix + period;
      groups.set(folder, [...(groups.get(folder) ?? []), key]);
    }
    for (const [folder, keys] of groups) {
      out.push({ folder, objects: keys.length });
      if (opts.dryRun) continue;
      const ordered = [
        ...keys.filter((k) => k.endsWith('/manifest.json')),
        ...keys.filter((k) => !k.endsWith('/manifest.json')),
      ];
      for (const key of ordered) await store.delete(key);
    }
  }
  return out;
}
