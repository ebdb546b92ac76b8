import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/** The parts of a `ws` socket the short-frame path reads (ws 8; checked by its test). */
interface WsInternals {
  _socket?: Socket | null;
  _sender?: { _state?: unknown; _queue?: unknown[]; _firstFragment?: unknown } | null;
}

/** The `ws` sender's state when it holds nothing back (it does while compressing). */
const SENDER_IDLE = 0;
/** A frame's payload length fits its second byte up to here. */
const MAX_SHORT = 125;

/**
 * Sends a short ASCII text message (a location ack, thousands a second) as one ready-made
 * frame written straight to the TCP socket. `ws.send` writes a header and a payload corked
 * into a `writev`, and the stream leaves a fresh buffer list on the socket after each one,
 * which lives until the next message and so is copied out of the young generation: about 2 µs
 * of CPU and 1 KB of allocation per message more (docs/benchmarks.md). The frame goes out in
 * order with everything `ws` sent before, since it writes its frames to the same socket at
 * once whenever its sender is idle, which is the only time this path is taken; otherwise, and
 * for anything longer, it is `ws.send`. Answers whether the short path was taken.
 */
export function sendShortAscii(ws: WebSocket, text: string): boolean {
  const { _socket: tcp, _sender: sender } = ws as unknown as WsInternals;
  if (
    text.length > MAX_SHORT ||
    !tcp ||
    tcp.destroyed ||
    sender?._state !== SENDER_IDLE ||
    sender._queue?.length !== 0 ||
    sender._firstFragment !== true
  ) {
    ws.send(text);
    return false;
  }
  const frame = Buffer.allocUnsafe(text.length + 2);
  frame[0] = 0x81; // FIN, text
  frame[1] = text.length; // unmasked, as server frames are
  frame.write(text, 2, 'latin1');
  tcp.write(frame);
  return true;
}
