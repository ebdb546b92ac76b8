import { formatTime } from '../../lib/format.ts';
import type { TimelineEntry } from './timeline.ts';

export function OrderTimeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <ol aria-label="Order progress" className="relative space-y-3 border-l-2 border-slate-200 pl-5">
      {entries.map((e) => (
        <li key={e.step} data-step={e.step} className="relative">
          <span
            aria-hidden
            className={`absolute top-1 -left-[27px] h-3 w-3 rounded-full border-2 border-white ${
              e.at ? (e.step === 'cancelled' ? 'bg-red-500' : 'bg-brand-600') : 'bg-slate-300'
            }`}
          />
          <p className={`text-sm ${e.at ? 'font-medium text-slate-900' : 'text-slate-400'}`}>
            {e.label}
          </p>
          {e.at && (
            <p className="text-xs text-slate-500">
              <time dateTime={e.at}>{formatTime(e.at)}</time>
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
