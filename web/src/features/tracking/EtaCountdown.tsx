import { formatCountdown, formatTime } from '../../lib/format.ts';
import { useNow } from '../../lib/useNow.ts';
import type { Eta } from './useOrderTracking.ts';

export function EtaCountdown({ eta }: { eta: Eta }) {
  const now = useNow(1000);
  const left = Date.parse(eta.at) - now;
  return (
    <div>
      <p className="text-sm text-slate-600">Arriving in</p>
      <p className="text-3xl font-semibold tabular-nums" aria-live="off">
        {left > 0 ? formatCountdown(left) : 'any moment'}
      </p>
      <p className="text-xs text-slate-500">
        around <time dateTime={eta.at}>{formatTime(eta.at)}</time>
      </p>
    </div>
  );
}
