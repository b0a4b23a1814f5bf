/**
 * Minimal DNS clients over real sockets: one-shot UDP and TCP queries,
 * pipelined TCP queries, and a TCP connection object for tests that need
 * control over framing (split writes, zero-length frames, idle timeouts).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, type Msg } from '@tsdns/core';

/** Default time a client waits for an answer. */
export const DEFAULT_TIMEOUT_MS = 2000;

/** No reply arrived in time. */
export class QueryTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no reply within ${ms} ms`);
    this.name = 'QueryTimeoutError';
  }
}

/** A reply as received: raw bytes, decoded lazily. */
export class DnsReply {
  /** The DNS message bytes (without the TCP length prefix). */
  readonly raw: Buffer;
  /** `udp` or `tcp`. */
  readonly proto: 'udp' | 'tcp';
  /** The client's local port the query was sent from (what whoami reports). */
  readonly localPort: number;
  private decoded: Msg | undefined;

  constructor(raw: Buffer, proto: 'udp' | 'tcp', localPort: number) {
    this.raw = raw;
    this.proto = proto;
    this.localPort = localPort;
  }

  /** The decoded message; throws a DecodeError when the bytes are not a valid message. */
  get msg(): Msg {
    return (this.decoded ??= decodeMessage(this.raw));
  }

  /** The message ID (read from the bytes, works for undecodable replies). */
  get id(): number {
    return this.raw.length >= 2 ? this.raw.readUInt16BE(0) : -1;
  }

  /** The header rcode nibble (read from the bytes). */
  get rcode(): number {
    return this.raw.length >= 4 ? this.raw[3]! & 0xf : -1;
  }
}

export interface ClientOptions {
  /** How long to wait for the (each) reply; default 2000 ms. */
  timeoutMs?: number;
}

function toBytes(q: Msg | Uint8Array): Buffer {
  if (q instanceof Uint8Array) return Buffer.from(q.buffer, q.byteOffset, q.byteLength);
  return encodeMessage(q);
}

function family(host: string): 'udp4' | 'udp6' {
  return net.isIPv6(host) ? 'udp6' : 'udp4';
}

/**
 * Sends one UDP datagram (a Msg, or raw bytes sent as is) from a fresh socket
 * and resolves with the first datagram that comes back. Rejects with
 * QueryTimeoutError when nothing arrives in time.
 */
export function queryUdp(host: string, port: number, q: Msg | Uint8Array, opts: ClientOptions = {}): Promise<DnsReply> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const bytes = toBytes(q);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(family(host));
    let done = false;
    const finish = (err: Error | undefined, r?: DnsReply): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolve(r!);
    };
    const timer = setTimeout(() => finish(new QueryTimeoutError(`udp ${host}:${port}`, timeoutMs)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg) => finish(undefined, new DnsReply(msg, 'udp', sock.address().port)));
    sock.bind(0, () => {
      sock.send(bytes, port, host, (e) => {
        if (e) finish(e);
      });
    });
  });
}

/** Resolves true when no UDP reply arrives within `waitMs` (for "must be dropped" checks). */
export async function udpNoReply(host: string, port: number, q: Msg | Uint8Array, waitMs = 300): Promise<boolean> {
  try {
    await queryUdp(host, port, q, { timeoutMs: waitMs });
    return false;
  } catch (e) {
    if (e instanceof QueryTimeoutError) return true;
    throw e;
  }
}

/** Prefixes a message with its two-byte TCP length. */
export function tcpFrame(q: Msg | Uint8Array): Buffer {
  const b = toBytes(q);
  const f = Buffer.allocUnsafe(b.length + 2);
  f.writeUInt16BE(b.length, 0);
  b.copy(f, 2);
  return f;
}

/**
 * A DNS-over-TCP connection for tests: send framed messages or raw bytes,
 * read replies one by one, observe when the server closes the connection.
 */
export class DnsTcpClient {
  readonly sock: net.Socket;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private readonly waiters: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private isClosed = false;
  /** When the server ended or closed the connection (performance.now()), if it did. */
  closedAt: number | undefined = undefined;
  private error: Error | undefined;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (d) => this.onData(d));
    this.closed = new Promise((resolve) => {
      const onEnd = (): void => {
        if (this.closedAt === undefined) this.closedAt = performance.now();
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.reject(this.error ?? new Error('connection closed by the server'));
        resolve();
      };
      sock.on('end', () => {
        if (this.closedAt === undefined) this.closedAt = performance.now();
        sock.end();
      });
      sock.on('close', onEnd);
      sock.on('error', (e) => {
        this.error = e;
      });
    });
  }

  /** Opens a connection. */
  static connect(host: string, port: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DnsTcpClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new QueryTimeoutError(`tcp connect ${host}:${port}`, timeoutMs));
      }, timeoutMs);
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new DnsTcpClient(sock));
      });
    });
  }

  /** The client's local port. */
  get localPort(): number {
    return this.sock.localPort ?? 0;
  }

  /** True once the connection is closed. */
  get isOpen(): boolean {
    return !this.isClosed;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      const frame = Buffer.from(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
      const w = this.waiters.shift();
      if (w) w.resolve(frame);
      else this.frames.push(frame);
    }
  }

  /** Sends one or more messages, framed, in a single write (pipelining). */
  send(...qs: (Msg | Uint8Array)[]): void {
    this.sock.write(Buffer.concat(qs.map(tcpFrame)));
  }

  /** Writes bytes as they are (no framing). */
  writeRaw(b: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(b, (e) => (e ? reject(e) : resolve())));
  }

  /** The next reply. Rejects on timeout or when the connection closes first. */
  next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DnsReply> {
    const f = this.frames.shift();
    const port = this.localPort;
    if (f) return Promise.resolve(new DnsReply(f, 'tcp', port));
    if (this.isClosed) return Promise.reject(this.error ?? new Error('connection closed by the server'));
    return new Promise((resolve, reject) => {
      const w = {
        resolve: (b: Buffer): void => {
          clearTimeout(timer);
          resolve(new DnsReply(b, 'tcp', port));
        },
        reject: (e: Error): void => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new QueryTimeoutError(`tcp ${this.sock.remoteAddress}:${this.sock.remotePort}`, timeoutMs));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Sends one message and waits for the next reply. */
  async query(q: Msg | Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DnsReply> {
    this.send(q);
    return this.next(timeoutMs);
  }

  /** Waits until the server closes the connection; resolves false on timeout. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const res = await Promise.race([this.closed.then(() => true), t]);
    clearTimeout(timer);
    return res;
  }

  /** Closes the connection. */
  close(): void {
    this.sock.destroy();
  }
}

/**
 * Sends one message over a new TCP connection and returns the reply.
 * With an array, all messages are written at once (pipelined, one write)
 * and the replies are returned in the order they arrive.
 */
export function queryTcp(host: string, port: number, q: Msg | Uint8Array, opts?: ClientOptions): Promise<DnsReply>;
export function queryTcp(host: string, port: number, q: (Msg | Uint8Array)[], opts?: ClientOptions): Promise<DnsReply[]>;
export async function queryTcp(
  host: string,
  port: number,
  q: Msg | Uint8Array | (Msg | Uint8Array)[],
  opts: ClientOptions = {},
): Promise<DnsReply | DnsReply[]> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const c = await DnsTcpClient.connect(host, port, timeoutMs);
  try {
    if (Array.isArray(q)) {
      c.send(...q);
      const out: DnsReply[] = [];
      for (let i = 0; i < q.length; i++) out.push(await c.next(timeoutMs));
      return out;
    }
    return await c.query(q, timeoutMs);
  } finally {
    c.close();
  }
}
