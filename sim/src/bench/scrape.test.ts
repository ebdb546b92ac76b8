import { describe, expect, it } from 'vitest';
import { bucketQuantiles, countsBetween, countsInWindow, parseScrape } from './scrape.ts';

const metrics = (counts: number[]) =>
  [
    '# TYPE delivery_nodejs_eventloop_lag_p50_seconds gauge',
    'delivery_nodejs_eventloop_lag_p50_seconds 0.0101',
    'delivery_nodejs_eventloop_lag_p99_seconds 0.04',
    'delivery_nodejs_eventloop_lag_max_seconds 0.2',
    ...['0.001', '0.005', '0.025', '0.1', '+Inf'].map(
      (le, i) => `delivery_location_ingest_duration_seconds_bucket{le="${le}"} ${counts[i]}`,
    ),
    `delivery_location_ingest_duration_seconds_count ${counts[4]}`,
    '# TYPE delivery_location_updates_total counter',
    `delivery_location_updates_total{outcome="applied"} ${counts[4]}`,
    `delivery_location_updates_total{outcome="superseded"} ${counts[0]}`,
  ].join('\n');

describe('server scrapes', () => {
  it('reads the event-loop delay in ms and the ingest buckets', () => {
    const s = parseScrape(metrics([1, 2, 3, 4, 5]));
    expect(s.loop).toEqual({ p50: 10.1, p99: 40, max: 200 });
    expect([...s.ingest!]).toEqual([
      [0.001, 1],
      [0.005, 2],
      [0.025, 3],
      [0.1, 4],
      [Infinity, 5],
    ]);
    expect([...s.outcomes!]).toEqual([
      ['applied', 5],
      ['superseded', 1],
    ]);
    expect(parseScrape('nothing here')).toEqual({ loop: null, ingest: null, outcomes: new Map() });
  });

  it('gives the window of several servers as bucket bounds for each quantile', () => {
    const before = [metrics([0, 0, 0, 0, 0]), metrics([10, 10, 10, 10, 10])].map(
      (t) => parseScrape(t).ingest!,
    );
    // In the window: 50 + 40 under 1 ms, 8 more under 25 ms, 1 under 100 ms, 1 above.
    const after = [metrics([50, 50, 55, 56, 57]), metrics([50, 50, 53, 53, 53])].map(
      (t) => parseScrape(t).ingest!,
    );
    const window = countsBetween(before, after);
    expect(window.get(Infinity)).toBe(100);
    expect(bucketQuantiles(window, [0.5, 0.9, 0.95, 0.99, 0.999])).toEqual({
      p50: 1,
      p90: 1,
      p95: 25,
      p99: 100,
      'p99.9': Infinity,
    });
    expect(bucketQuantiles(countsBetween(before, before), [0.5])).toBeNull();
  });

  it('counts outcomes in the window, and gives none when a server missed a scrape', () => {
    const before = parseScrape(metrics([1, 1, 1, 1, 10]));
    const after = parseScrape(metrics([4, 4, 4, 4, 30]));
    const silent = { loop: null, ingest: null, outcomes: null };
    const outcomes = (x: { outcomes: Map<string, number> | null }) => x.outcomes;
    expect([...countsInWindow([before, before], [after, after], outcomes)!]).toEqual([
      ['applied', 40],
      ['superseded', 6],
    ]);
    expect(countsInWindow([before, silent], [after, after], outcomes)).toBeNull();
    expect(countsInWindow([before], [silent], outcomes)).toBeNull();
  });
});
