import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter } from './metrics.ts';

describe('HotCounter', () => {
  it('shows every increment at each scrape, added to what was scraped before', async () => {
    const registry = new Registry();
    const tally = new HotCounter({
      name: 'test_events_total',
      help: 'events',
      label: 'kind',
      values: ['a', 'b', 'c'],
      registers: [registry],
    });
    for (let i = 0; i < 3; i++) tally.inc('a');
    tally.inc('b');
    let text = await registry.metrics();
    expect(text).toContain('test_events_total{kind="a"} 3');
    expect(text).toContain('test_events_total{kind="b"} 1');
    expect(text).not.toContain('kind="c"');
    tally.inc('a');
    tally.inc('c');
    text = await registry.metrics();
    expect(text).toContain('test_events_total{kind="a"} 4');
    expect(text).toContain('test_events_total{kind="b"} 1');
    expect(text).toContain('test_events_total{kind="c"} 1');
    const values = (await tally.get()).values;
    expect(values.map((v) => [v.labels.kind, v.value])).toEqual([
      ['a', 4],
      ['b', 1],
      ['c', 1],
    ]);
  });
});
