/**
 * A lean WebSocket client (RFC 6455, `ws://` only, no extensions) for the benchmark's reporting
 * drivers, whose load generator shares the machine with the servers it measures.
 *
 * Measured on a 2-core machine, a reporting driver on the `ws` client cost its load generator
 * ~130 µs of CPU per update, about as much as the servers spent taking the update in, while the
 * bare loopback round trip under it costs ~22 µs on the sending side. The difference is
 * per-message machinery: a readable stream per socket for every ack, a writable stream with
 * cork/uncork and a two-buffer `writev` for every send. This client reads each socket straight
 * into one shared buffer (`net`'s `onread`, no stream), writes each frame as one buffer, and
 * hands text frames to its caller as strings. On the wire it is an ordinary client: a real
 * HTTP upgrade with the `Sec-WebSocket-Accept` check, masked frames with keys from the CSPRNG,
 * pongs for pings and the closing handshake. The simulator's other sockets keep using `ws`.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import net from 'node:net';
import { dialWs, type Dial, type Wire, type WireHandlers } from './socket.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Tells a server's logs (and tests) which client connected. */
export const USER_AGENT = 'delivery-sim lean-ws';
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;
/** A server's upgrade answer longer than this is not one. */
const MAX_HANDSHAKE_BYTES = 16 * 1024;
/** Messages above this are refused (1009): a reporter hears acks and small events. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** After our close frame, how long the server has to close the connection itself. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Every socket reads into this buffer; each read is handled before the next one is made. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/** Masking keys are drawn from the CSPRNG in bulk, as RFC 6455 §5.3 wants them unpredictable. */
const maskPool = Buffer.allocUnsafe(8 * 1024);
let maskOffset = maskPool.length;
function writeMask(target: Buffer, at: number): void {
  if (maskOffset === maskPool.length) {
    randomFillSync(maskPool);
    maskOffset = 0;
  }
  maskPool.copy(target, at, maskOffset, maskOffset + 4);
  maskOffset += 4;
}

/** One frame from client to server: FIN set, masked, as one buffer. */
export function encodeFrame(opcode: number, payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + 4 + length);
  frame[0] = 0x80 | opcode;
  if (head === 2) frame[1] = 0x80 | length;
  else if (head === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  const mask = head;
  writeMask(frame, mask);
  const data = mask + 4;
  if (typeof payload === 'string') frame.write(payload, data, 'utf8');
  else payload.copy(frame, data);
  for (let i = 0; i < length; i++) frame[data + i]! ^= frame[mask + (i & 3)]!;
  return frame;
}

function closePayload(code: number, reason: string): Buffer {
  const payload = Buffer.allocUnsafe(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}

/** See the file's comment. One connection; it does not reconnect (its `SimSocket` does). */
export class LeanWebSocket implements Wire {
  private state = CONNECTING;
  private readonly socket: net.Socket;
  private readonly key = randomBytes(16).toString('base64');
  /** Bytes of an unfinished handshake answer or frame, copied out of the shared buffer. */
  private partial: Buffer | null = null;
  private fragments: Buffer[] | null = null;
  private fragmentsOpcode = 0;
  private fragmentsBytes = 0;
  /** The code the connection ended with: the server's close frame, ours, or 1006 (none). */
  private closeCode = 1006;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(
    url: string,
    opts: { localAddress?: string; handshakeTimeoutMs: number },
    private readonly on: WireHandlers,
  ) {
    const target = new URL(url);
    if (target.protocol !== 'ws:') throw new Error(`lean WebSocket: only ws:// URLs, not ${url}`);
    const port = Number(target.port || 80);
    this.socket = net.connect({
      host: target.hostname,
      port,
      localAddress: opts.localAddress,
      noDelay: true,
      onread: { buffer: readBuffer, callback: (n: number) => this.onRead(n) },
    });
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${target.pathname}${target.search} HTTP/1.1\r\n` +
          `Host: ${target.host}\r\nUser-Agent: ${USER_AGENT}\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('error', () => this.on.error());
    this.socket.on('close', () => this.onClosed());
    this.timer = setTimeout(() => this.fail(1006), opts.handshakeTimeoutMs);
  }

  get isOpen(): boolean {
    return this.state === OPEN;
  }

  get isClosed(): boolean {
    return this.state === CLOSED;
  }

  send(text: string): void {
    if (this.state === OPEN) this.socket.write(encodeFrame(OP_TEXT, text));
  }

  close(code: number, reason: string): void {
    if (this.state === CONNECTING) return this.terminate();
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    this.closeCode = code;
    this.socket.write(encodeFrame(OP_CLOSE, closePayload(code, reason)));
    this.timer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS).unref();
  }

  terminate(): void {
    this.socket.destroy();
  }

  /** Ends the connection after a protocol error (or a handshake that failed or timed out). */
  private fail(code: number): void {
    if (this.state === CLOSED || this.failed) return;
    this.failed = true;
    this.closeCode = code;
    this.on.error();
    if (this.state === OPEN && code !== 1006) {
      this.socket.end(encodeFrame(OP_CLOSE, closePayload(code, '')));
      this.state = CLOSING;
      this.timer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS).unref();
    } else this.socket.destroy();
  }

  private onClosed(): void {
    clearTimeout(this.timer);
    this.state = CLOSED;
    this.on.close(this.closeCode);
  }

  private onRead(n: number): boolean {
    let data = readBuffer.subarray(0, n);
    if (this.partial) {
      data = Buffer.concat([this.partial, data]);
      this.partial = null;
    }
    const rest = this.state === CONNECTING ? this.readHandshake(data) : this.readFrames(data);
    // What is left is kept for the next read, copied: the shared buffer is about to be reused.
    if (rest < data.length && this.state !== CLOSED)
      this.partial = Buffer.from(data.subarray(rest));
    return true;
  }

  /** Reads the upgrade answer; returns how much of `data` it used. */
  private readHandshake(data: Buffer): number {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) {
      if (data.length > MAX_HANDSHAKE_BYTES) this.fail(1006);
      return 0;
    }
    const lines = data.toString('latin1', 0, end).split('\r\n');
    const accept = createHash('sha1')
      .update(this.key + GUID)
      .digest('base64');
    const headerValue = (name: string) => {
      const line = lines.find((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === name);
      return line?.slice(line.indexOf(':') + 1).trim();
    };
    if (
      !/^HTTP\/1\.1 101 /.test(`${lines[0]} `) ||
      headerValue('sec-websocket-accept') !== accept
    ) {
      this.fail(1006);
      return data.length;
    }
    clearTimeout(this.timer);
    this.state = OPEN;
    this.on.open();
    const start = end + 4;
    return this.state === OPEN ? start + this.readFrames(data.subarray(start)) : data.length;
  }

  /** Reads whole frames from `data`; returns how much of it they took. */
  private readFrames(data: Buffer): number {
    let at = 0;
    while (this.state === OPEN || this.state === CLOSING) {
      const available = data.length - at;
      if (available < 2) break;
      const b0 = data[at]!;
      const b1 = data[at + 1]!;
      let length = b1 & 0x7f;
      let head = 2;
      if (length === 126) {
        if (available < 4) break;
        length = data.readUInt16BE(at + 2);
        head = 4;
      } else if (length === 127) {
        if (available < 10) break;
        length = data.readUInt32BE(at + 2) * 2 ** 32 + data.readUInt32BE(at + 6);
        head = 10;
      }
      // A server never masks (§5.1) and we negotiated no extension that uses the RSV bits.
      if (b1 & 0x80 || b0 & 0x70) {
        this.fail(1002);
        return data.length;
      }
      if (length > MAX_MESSAGE_BYTES) {
        this.fail(1009);
        return data.length;
      }
      if (available < head + length) break;
      const payload = data.subarray(at + head, at + head + length);
      at += head + length;
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
    return at;
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP_TEXT:
      case OP_BINARY:
        if (this.fragments) return this.fail(1002);
        if (fin) return this.deliver(opcode, payload);
        this.fragments = [Buffer.from(payload)];
        this.fragmentsOpcode = opcode;
        this.fragmentsBytes = payload.length;
        return;
      case OP_CONTINUATION:
        if (!this.fragments) return this.fail(1002);
        this.fragmentsBytes += payload.length;
        if (this.fragmentsBytes > MAX_MESSAGE_BYTES) return this.fail(1009);
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = null;
          this.deliver(this.fragmentsOpcode, whole);
        }
        return;
      case OP_PING:
        if (!fin || payload.length > 125) return this.fail(1002);
        if (this.state === OPEN) this.socket.write(encodeFrame(OP_PONG, payload));
        return;
      case OP_PONG:
        if (!fin || payload.length > 125) return this.fail(1002);
        return;
      case OP_CLOSE: {
        if (!fin || payload.length === 1 || payload.length > 125) return this.fail(1002);
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeCode = code;
        if (this.state === OPEN) {
          // Answer the closing handshake with the same code, then let the server close.
          this.state = CLOSING;
          this.socket.end(encodeFrame(OP_CLOSE, code === 1005 ? Buffer.alloc(0) : payload));
        } else this.socket.end();
        return;
      }
      default:
        return this.fail(1002);
    }
  }

  private deliver(opcode: number, payload: Buffer): void {
    if (opcode === OP_TEXT) this.on.text(payload.toString('utf8'));
    else this.on.binary();
  }
}

/** `Dial` for `SimSocket` with the lean client; `wss://` URLs, which it does not speak, get `ws`. */
export const dialLean: Dial = (url, opts, on) =>
  url.startsWith('ws://') ? new LeanWebSocket(url, opts, on) : dialWs(url, opts, on);
