import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('configuration', () => {
  it('parses defaults into a frozen object', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dispatch.ringsKm).toEqual([2, 5, 10]);
    expect(config.eta.speedKmh).toEqual({ bicycle: 15, scooter: 24, car: 22 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('sorts the search rings and reads vehicle speeds', () => {
    const config = loadConfig({ DISPATCH_RINGS_KM: '10,2.5', ETA_SPEED_KMH: 'bicycle=12,car=30' });
    expect(config.dispatch.ringsKm).toEqual([2.5, 10]);
    expect(config.eta.speedKmh).toEqual({ bicycle: 12, car: 30 });
  });

  it.each([
    ['a port that is not a number', { PORT: 'eighty' }, /PORT/],
    ['a zero search ring', { DISPATCH_RINGS_KM: '0,5' }, /DISPATCH_RINGS_KM/],
    ['a zero vehicle speed', { ETA_SPEED_KMH: 'bicycle=0' }, /ETA_SPEED_KMH/],
    ['a database URL that is not a URL', { DATABASE_URL: 'localhost' }, /DATABASE_URL/],
    ['no dispatch claimers', { DISPATCH_CONCURRENCY: '0' }, /DISPATCH_CONCURRENCY/],
  ])('stops with a clear message on %s', (_name, env, pattern) => {
    expect(() => loadConfig(env)).toThrow(pattern);
  });

  it('never loads demo data in production unless asked', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).seedDemo).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SEED_DEMO: 'true' }).seedDemo).toBe(true);
    expect(loadConfig({}).seedDemo).toBe(true);
  });
});
