import { describe, expect, it } from 'vitest';
import { describeFloor, measureTransportFloor } from './floor.ts';

describe('transport floor', () => {
  it('times real round trips between two processes at the asked rate', async () => {
    const floor = await measureTransportFloor({ rate: 400, sockets: 20, seconds: 1 });
    // Every message of the window was answered: the count follows the rate, not a constant.
    expect(floor.roundTrips).toBeGreaterThan(200);
    expect(floor.roundTrips).toBeLessThan(600);
    expect(floor.clientMicros).toBeGreaterThan(0);
    expect(floor.serverMicros).toBeGreaterThan(0);
    expect(floor.cpuMicrosPerRoundTrip).toBeCloseTo(floor.clientMicros + floor.serverMicros, 0);
    expect(floor.systemShare).toBeGreaterThanOrEqual(0);
    expect(floor.systemShare).toBeLessThanOrEqual(1);
    expect(floor.coresAtRate).toBeCloseTo((floor.cpuMicrosPerRoundTrip * 400) / 1e6, 1);
    expect(describeFloor(floor)).toContain(`${floor.cpuMicrosPerRoundTrip} µs`);
  }, 20_000);
});
