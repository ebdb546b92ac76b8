import { useEffect, useState } from 'react';

/**
 * The current time, refreshed every `everyMs` (for countdowns). While `paused` it keeps the
 * last value, so a countdown stops where it was.
 */
export function useNow(everyMs = 1000, paused = false): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (paused) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, paused]);
  return now;
}
