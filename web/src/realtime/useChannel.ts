import type { ServerEvent } from '@delivery/contracts';
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ChannelState, ConnectionState } from './client.ts';
import { useRealtime } from './RealtimeProvider.tsx';

export interface ChannelHandlers {
  onEvent: (event: ServerEvent) => void;
  /** After each (re)subscription; on a reconnect, reload state the replay may not cover. */
  onSubscribed?: (info: { replayed: number; resumed: boolean }) => void;
}

export interface ChannelStatus {
  state: ChannelState | 'off';
  message?: string;
}

/**
 * One subscription: listens to `channel` (`order:<id>`, `merchant:<id>`, ...) while the
 * component is mounted. Events arrive once each, in order, also across reconnects.
 * Pass `null` to listen to nothing.
 */
export function useChannel(channel: string | null, handlers: ChannelHandlers): ChannelStatus {
  const client = useRealtime();
  const latest = useRef(handlers);
  useEffect(() => {
    latest.current = handlers;
  });
  const [status, setStatus] = useState<ChannelStatus>({ state: 'off' });

  useEffect(() => {
    if (!channel) return;
    return client.subscribe(channel, {
      onEvent: (event) => latest.current.onEvent(event),
      onSubscribed: (info) => latest.current.onSubscribed?.(info),
      onState: (state, message) => setStatus(message ? { state, message } : { state }),
    });
  }, [client, channel]);

  return channel ? status : { state: 'off' };
}

/** The shared socket's state, for a "live" / "reconnecting" badge. */
export function useConnectionState(): ConnectionState {
  const client = useRealtime();
  return useSyncExternalStore(
    (notify) => client.onConnectionState(notify),
    () => client.connectionState,
  );
}

/** Every event on any channel this tab listens to, filtered by type. */
export function useRealtimeEvents(type: string, onEvent: (event: ServerEvent) => void): void {
  const client = useRealtime();
  const latest = useRef(onEvent);
  useEffect(() => {
    latest.current = onEvent;
  });
  useEffect(
    () =>
      client.onEvent((event) => {
        if (event.type === type) latest.current(event);
      }),
    [client, type],
  );
}
