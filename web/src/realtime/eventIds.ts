/** Event ids are `<ms>-<seq>` and compare as number pairs, not as strings. */
export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/** Remembers the latest ids of a channel, to drop an event delivered twice. */
export class SeenIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];
  /** The highest id seen: what to resubscribe from. */
  last: string | null = null;

  constructor(private readonly capacity = 2000) {}

  /** Records `id`; false when it was seen before. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    this.order.push(id);
    if (this.order.length > this.capacity) this.ids.delete(this.order.shift()!);
    if (this.last === null || compareEventIds(id, this.last) > 0) this.last = id;
    return true;
  }
}
