import { ManualClock } from '../platform/clock.ts';
import { adapterContract } from './contract.suite.ts';
import { createMemoryAdapters } from './memory/index.ts';

adapterContract('memory', () => {
  const clock = new ManualClock();
  const adapters = createMemoryAdapters({ clock });
  return Promise.resolve({ adapters, clock, cleanup: () => adapters.close() });
});
