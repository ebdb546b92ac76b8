import { useConnectionState } from '../realtime/useChannel.ts';

/** Says so while live updates are interrupted; silent when all is well. */
export function ConnectionBadge() {
  const state = useConnectionState();
  if (state !== 'reconnecting') return null;
  return (
    <span role="status" className="rounded-full bg-amber-100 px-2 py-0.5 text-xs text-amber-800">
      Reconnecting…
    </span>
  );
}
