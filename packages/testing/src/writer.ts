/**
 * TestWriter: a connection writer that records what a handler (or the whole
 * server) writes, for unit tests that do not need sockets.
 */
import {
  Context,
  Request,
  ScrubWriter,
  decodeMessage,
  encodeMessage,
  isPromise,
  newRcodeReply,
  clientWrite,
  rcodeOf,
  rcodeOfError,
  toAddress,
  type Address,
  type ConnWriter,
  type Handler,
  type Msg,
  type ResponseWriter,
  type TransportName,
} from '@tsdns/core';

/** An address as `ip:port` (`10.0.0.1:53`, `[::1]:53`) or its parts. */
export type AddressLike = string | { address: string; port: number };

/** Parses `1.2.3.4:53` / `[::1]:53` / `{address, port}` into a core Address. */
export function parseAddress(a: AddressLike): Address {
  if (typeof a !== 'string') return toAddress(a.address, a.port);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(a) ?? /^([^:]+):(\d+)$/.exec(a);
  if (!m) throw new Error(`not an ip:port address: ${a}`);
  return toAddress(m[1], Number(m[2]));
}

export interface TestWriterOptions {
  /** Client address (default `10.240.0.1:40212`, as CoreDNS's test.ResponseWriter). */
  remote?: AddressLike;
  /** Server address (default `127.0.0.1:53`). */
  local?: AddressLike;
  /** `udp` (default) or `tcp`. */
  proto?: 'udp' | 'tcp';
  /** Transport name (default: `udp` or `tcp` from `proto`). */
  transport?: TransportName;
}

/** One message written through a TestWriter. */
export class WrittenMessage {
  /** The bytes as they would go on the wire (without a TCP length prefix). */
  readonly raw: Buffer;
  /** How it was written: `writeMsg`, `write` (raw bytes) or `send` (by the server's scrub writer). */
  readonly via: 'writeMsg' | 'write' | 'send';
  /** Whether the sender asked for name compression (only meaningful for `send`). */
  readonly compressed: boolean;
  private decoded: Msg | undefined;

  constructor(raw: Buffer, via: 'writeMsg' | 'write' | 'send', compressed: boolean) {
    this.raw = raw;
    this.via = via;
    this.compressed = compressed;
  }

  /** The message decoded from `raw` (what a client receives). Throws if the bytes do not decode. */
  get msg(): Msg {
    return (this.decoded ??= decodeMessage(this.raw));
  }
}

/**
 * A ConnWriter that records every message written: decoded `Msg`s and raw
 * bytes. Use it as the writer of `handler.ServeDNS(ctx, w, r)`, or wrap it
 * with the server's scrub writer through `serveHandler`.
 */
export class TestWriter implements ConnWriter {
  readonly remote: Address;
  readonly local: Address;
  readonly proto: 'udp' | 'tcp';
  readonly transport: TransportName;
  /** Everything written, in order. */
  readonly written: WrittenMessage[] = [];

  constructor(opts: TestWriterOptions = {}) {
    this.remote = parseAddress(opts.remote ?? '10.240.0.1:40212');
    this.local = parseAddress(opts.local ?? '127.0.0.1:53');
    this.proto = opts.proto ?? 'udp';
    this.transport = opts.transport ?? this.proto;
  }

  send(m: Msg, compress: boolean): void {
    this.written.push(new WrittenMessage(encodeMessage(m, compress), 'send', compress));
  }

  writeMsg(m: Msg): void {
    this.written.push(new WrittenMessage(encodeMessage(m, false), 'writeMsg', false));
  }

  write(wire: Uint8Array): void {
    this.written.push(new WrittenMessage(Buffer.from(wire), 'write', false));
  }

  /** Decoded messages written, in order. */
  get msgs(): Msg[] {
    return this.written.map((w) => w.msg);
  }

  /** Raw bytes written, in order. */
  get raw(): Buffer[] {
    return this.written.map((w) => w.raw);
  }

  /** The last message written (decoded), or undefined when nothing was written. */
  get msg(): Msg | undefined {
    return this.written.at(-1)?.msg;
  }

  /** The rcode (with extended bits) of the last message written, or undefined. */
  get rcode(): number | undefined {
    const m = this.msg;
    return m === undefined ? undefined : rcodeOf(m);
  }

  /** Forgets what was written. */
  reset(): void {
    this.written.length = 0;
  }
}

export interface ServeResult {
  /** What the handler returned (or the rcode of the PluginError it threw). */
  rcode: number;
  /** The exception the handler threw, if any. */
  error: unknown;
  /** The writer; `writer.msg` is what the client would get. */
  writer: TestWriter;
  /** The reply the client would get (undefined: no reply at all). */
  reply: Msg | undefined;
}

export interface ServeHandlerOptions {
  /** Writer to use (default: a new TestWriter). */
  writer?: TestWriter;
  /** Context (default: `Context.background()`: server `dns://:53`, zone `.`). */
  ctx?: Context;
  /**
   * Behave like the server around the chain (default true): replies go
   * through the scrub writer (EDNS echo, truncation), and when the handler
   * returns SERVFAIL/REFUSED/FORMERR/NOTIMP (or throws) the error reply is
   * written as the server would.
   */
  server?: boolean;
}

/**
 * Runs one query through a handler (or a whole chain) and returns what it
 * returned and what was written — a table-test helper. The query is given as
 * a Msg (see `makeQuery`).
 */
export async function serveHandler(h: Handler, query: Msg, opts: ServeHandlerOptions = {}): Promise<ServeResult> {
  const writer = opts.writer ?? new TestWriter();
  const ctx = opts.ctx ?? Context.background();
  const asServer = opts.server ?? true;
  const w: ResponseWriter = asServer ? new ScrubWriter(writer, new Request(query, writer)) : writer;
  let rcode: number;
  let error: unknown;
  try {
    const res = h.ServeDNS(ctx, w, query);
    rcode = isPromise(res) ? await res : res;
  } catch (e) {
    error = e;
    rcode = rcodeOfError(e);
  }
  if (asServer && !clientWrite(rcode)) w.writeMsg(newRcodeReply(query, rcode));
  return { rcode, error, writer, reply: writer.msg };
}

/**
 * A writer that keeps what handlers write, as they wrote it: messages as
 * objects (not re-encoded) and raw writes as bytes. For unit tests that look
 * at exactly what a handler produced, before any server scrub.
 */
export class MemoryWriter implements ResponseWriter {
  readonly msgs: Msg[] = [];
  readonly wires: Uint8Array[] = [];
  readonly remote: Address;
  readonly local: Address;
  readonly transport: TransportName;
  readonly proto: 'udp' | 'tcp';

  constructor(opts: { remote?: Address; local?: Address; transport?: TransportName } = {}) {
    this.remote = opts.remote ?? { address: '10.240.0.1', port: 40212, family: 4 };
    this.local = opts.local ?? { address: '127.0.0.1', port: 53, family: 4 };
    this.transport = opts.transport ?? 'udp';
    this.proto = this.transport === 'udp' ? 'udp' : 'tcp';
  }
  writeMsg(m: Msg): void {
    this.msgs.push(m);
  }
  write(wire: Uint8Array): void {
    this.wires.push(wire);
  }
}

/** The message of the error `fn` throws or rejects with; throws if it does not fail. */
export async function errorOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected an error');
}

/** A clock returning the given values in turn, then repeating the last one. */
export function steppingClock(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}
