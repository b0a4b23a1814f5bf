/**
 * Connections to one upstream, each carrying one exchange at a time (as
 * CoreDNS's persistConn): a TCP / TLS stream read with RFC 1035 two-byte
 * framing (pooled), or a connected UDP socket (health checks and lookups of
 * upstream names; pooled UDP queries share sockets: see mux.ts). An exchange
 * sends a query that already carries its ID and waits, until the read
 * timeout, for the reply with that ID; other replies are dropped. Any failure
 * closes the connection; after a success the pool may reuse it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { DecodeError, decodeMessage, scanReply, TRUNCATED_RESPONSE, type Abortable, type AbortSource, type AbortState, type Msg, type WireReply } from '@tsdns/core';
import { abortError, ERR_CACHED_CLOSED, opError, syscallText, tlsErrorText, UpstreamError } from './errors.js';
import { joinHostPort } from './hostport.js';

/** How replies are judged: `strict` for queries, `probe` for health checks (any header will do). */
export type ReadMode = 'strict' | 'probe';

/**
 * A reply: decoded, or (queries only) kept as the bytes received after
 * `scanReply` found them to decode cleanly (see WireReply).
 */
export type Reply = Msg | WireReply;

/**
 * Told about a reply on a pooled TCP/TLS connection before the exchange's
 * promise resolves (the upstream: restores the client's ID, records the
 * duration, returns the connection to its pool), so that no extra promise
 * is needed per query.
 */
export interface ReplySink {
  replied(conn: StreamConn, m: Reply, origId: number, start: number): void;
}

const EMPTY: Msg['questions'] = [];

/** miekg's shouldTruncateResponse: the reply overflowed the read buffer. */
function isOverflow(message: string): boolean {
  return message.includes('overflow') || message.includes('buffer size too small');
}

/** A header that answers a query (miekg's health check: Response set or opcode QUERY). */
function saneHeader(p: Msg): boolean {
  return p.type === 'response' || ((p.flags >> 11) & 0xf) === 0;
}

function addrString(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '';
  let a = address;
  if (a.startsWith('::ffff:') && net.isIPv4(a.slice(7))) a = a.slice(7);
  return joinHostPort(a, port ?? 0);
}

/** What a reply cut by the read buffer becomes (miekg): its header with TC set, its question, nothing else. */
function truncatedReply(partial: Msg): Msg {
  return {
    id: partial.id,
    type: partial.type,
    flags: partial.flags | TRUNCATED_RESPONSE,
    questions: partial.questions.length > 0 ? partial.questions : EMPTY,
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/**
 * A UDP reply to a query, its ID already checked (already cut to the read
 * buffer's size): the bytes (`WireReply`) when they decode cleanly, else the
 * decoded message; a reply that overflowed the buffer becomes an empty reply
 * with TC set; anything else that does not decode is the exchange's error.
 */
export function readUdpReply(data: Buffer): Reply | UpstreamError {
  const r = scanReply(data);
  if (r !== undefined) return r;
  try {
    return decodeMessage(data);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    if (e instanceof DecodeError && isOverflow(text)) return truncatedReply(e.partial);
    return new UpstreamError(text);
  }
}

/**
 * Sends on a connected UDP socket without a completion callback (it would
 * cost one per query); a send that fails at once (a socket that is closed or
 * could not connect) reaches `onError` as a send error, as later ones do.
 */
export function sendDatagram(sock: dgram.Socket, wire: Uint8Array, onError: (e: Error) => void): void {
  try {
    sock.send(wire);
  } catch (e) {
    onError(Object.assign(e as NodeJS.ErrnoException, { syscall: 'send' }));
  }
}

/**
 * A UDP socket connected to host:port (bound to `localAddress` if given),
 * and its local address for error texts. The socket never holds the process
 * open (a pending exchange's timer does).
 */
export function openUdpSocket(host: string, port: number, remote: string, localAddress: string | undefined): Promise<{ sock: dgram.Socket; local: string }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    sock.unref();
    const failed = (e: Error): void => {
      try {
        sock.close();
      } catch {
        // already closed
      }
      reject(opError('dial', 'udp', localAddress !== undefined ? joinHostPort(localAddress, 0) : '', remote, syscallText(e as NodeJS.ErrnoException, 'connect')));
    };
    sock.once('error', failed);
    const connect = (): void => {
      try {
        sock.connect(port, host, onConnect);
      } catch (e) {
        failed(e as Error);
      }
    };
    // connect reports its own failure (network unreachable, ...) to this callback, not as 'error'
    const onConnect = (e?: Error): void => {
      if (e) {
        failed(e);
        return;
      }
      sock.off('error', failed);
      const a = sock.address();
      resolve({ sock, local: addrString(a.address, a.port) });
    };
    if (localAddress !== undefined) sock.bind({ address: localAddress, port: 0, exclusive: true }, connect); // exclusive: a socket of its own in a -workers process, not the primary's
    else connect();
  });
}

/** Shared state of an exchange in progress. */
abstract class ConnBase implements Abortable {
  /** performance.now() of creation and last return to the pool. */
  readonly created: number;
  used: number;
  /** The peer closed it, or it failed: never reuse. */
  dead = false;
  /** Local and remote address for error texts (`127.0.0.1:40000`, `127.0.0.1:53`). */
  local = '';
  readonly remote: string;

  protected id = -1;
  protected mode: ReadMode = 'strict';
  protected sink: ReplySink | undefined = undefined;
  protected origId = 0;
  protected start = 0;
  protected resolveFn: ((m: Reply) => void) | undefined = undefined;
  protected rejectFn: ((e: UpstreamError) => void) | undefined = undefined;
  protected timer: NodeJS.Timeout | undefined = undefined;
  protected signal: AbortSource | undefined = undefined;
  protected readonly onTimeout = (): void => this.timedOut();

  constructor(remote: string) {
    this.remote = remote;
    this.created = performance.now();
    this.used = this.created;
  }

  protected begin(id: number, mode: ReadMode, signal: AbortSource | undefined, sink: ReplySink | undefined, origId: number, start: number): Promise<Reply> {
    this.id = id;
    this.mode = mode;
    this.sink = sink;
    this.origId = origId;
    this.start = start;
    const p = new Promise<Reply>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (signal !== undefined) {
      this.signal = signal;
      signal.watch(this);
    }
    return p;
  }

  /** The query's context was cancelled: stop waiting, close the connection. */
  onAbort(signal: AbortState): void {
    if (this.signal === signal) this.fail(abortError(signal));
  }

  protected armRead(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimeout, ms);
  }

  protected abstract timedOut(): void;

  /** Ends the exchange with a reply; the connection stays usable. */
  protected succeed(m: Reply): void {
    const resolve = this.resolveFn;
    if (resolve === undefined) return;
    this.settle();
    const sink = this.sink;
    if (sink !== undefined) {
      this.sink = undefined;
      sink.replied(this as unknown as StreamConn, m, this.origId, this.start); // only streams take a sink
    }
    resolve(m);
  }

  /** Ends the exchange with an error and closes the connection. */
  protected fail(e: UpstreamError): void {
    const reject = this.rejectFn;
    this.close();
    if (reject === undefined) return;
    this.settle();
    this.sink = undefined;
    reject(e);
  }

  private settle(): void {
    this.resolveFn = undefined;
    this.rejectFn = undefined;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.signal !== undefined) {
      this.signal.unwatch(this);
      this.signal = undefined;
    }
  }

  /** Handles one received message (already cut to the read buffer size). */
  protected receive(data: Buffer, udp: boolean): void {
    if (data.length < 12) {
      // dns.ErrShortRead: a query over UDP keeps reading; anything else fails
      if (!udp || this.mode === 'probe') this.fail(new UpstreamError('dns: short read'));
      return;
    }
    if (this.mode === 'strict') {
      if (((data[0]! << 8) | data[1]!) === this.id) {
        if (udp) {
          const r = readUdpReply(data);
          if (r instanceof UpstreamError) this.fail(r);
          else this.succeed(r);
          return;
        }
        // a reply that decodes cleanly stays bytes; anything else takes the decoder's path
        const r = scanReply(data);
        if (r !== undefined) {
          this.succeed(r);
          return;
        }
      } else if (udp) {
        return; // a reply to an earlier query (what the decode below concludes too)
      }
    }
    let m: Msg;
    try {
      m = decodeMessage(data);
    } catch (e) {
      const partial = e instanceof DecodeError ? e.partial : undefined;
      const text = e instanceof Error ? e.message : String(e);
      if (this.mode === 'probe') {
        if (partial !== undefined && saneHeader(partial)) this.succeed(partial);
        else this.fail(new UpstreamError(text));
        return;
      }
      this.fail(new UpstreamError(text));
      return;
    }
    if (m.id !== this.id) {
      // replies to earlier queries; for a health check over a stream any header is fine
      if (!udp && this.mode === 'probe' && saneHeader(m)) this.succeed(m);
      return;
    }
    this.succeed(m);
  }

  abstract close(): void;
}

/** A connected UDP socket carrying one exchange at a time (health checks, lookups of upstream names). */
export class UdpConn extends ConnBase {
  readonly sock: dgram.Socket;
  private size = 512;
  private readonly onMessage = (b: Buffer): void => {
    if (this.resolveFn === undefined) return; // a late reply: ignore
    this.receive(b.length > this.size ? b.subarray(0, this.size) : b, true);
  };
  private readonly onError = (e: Error): void => {
    if (this.resolveFn === undefined) {
      this.close();
      return;
    }
    // send errors (no send callback: it would cost an extra callback per query) and receive errors
    const write = (e as NodeJS.ErrnoException).syscall === 'send';
    this.fail(opError(write ? 'write' : 'read', 'udp', this.local, this.remote, syscallText(e as NodeJS.ErrnoException, write ? 'write' : 'read')));
  };

  private constructor(sock: dgram.Socket, remote: string, local: string) {
    super(remote);
    this.sock = sock;
    this.local = local;
    sock.on('message', this.onMessage);
    sock.on('error', this.onError);
  }

  /** Creates a socket connected to host:port (bound to `localAddress` if given). */
  static async open(host: string, port: number, remote: string, localAddress: string | undefined): Promise<UdpConn> {
    const { sock, local } = await openUdpSocket(host, port, remote, localAddress);
    return new UdpConn(sock, remote, local);
  }

  /**
   * Sends `wire` (ID already set to `id`) and waits for the reply with that
   * ID; datagrams longer than `size` are cut as a read buffer of that size
   * would cut them.
   */
  exchange(
    wire: Uint8Array,
    id: number,
    size: number,
    timeoutMs: number,
    signal: AbortSource | undefined,
    mode: ReadMode = 'strict',
  ): Promise<Reply> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.size = size;
    const p = this.begin(id, mode, signal, undefined, 0, 0);
    this.armRead(timeoutMs);
    sendDatagram(this.sock, wire, this.onError);
    return p;
  }

  protected timedOut(): void {
    this.timer = undefined;
    this.fail(opError('read', 'udp', this.local, this.remote, 'i/o timeout'));
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

/** TLS settings of a tls:// or https:// upstream. */
export interface TlsSettings {
  secureContext: tls.SecureContext;
  /** SNI and the name verified; undefined: the address. */
  servername: string | undefined;
}

/** A TCP or TLS connection carrying length-prefixed messages. */
export class StreamConn extends ConnBase {
  readonly sock: net.Socket;
  readonly tls: boolean;
  private connected = false;
  /** Set by the pool when the connection is taken from it (a cache hit). */
  cached = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readTimeoutMs = 0;
  private readonly onDialTimeout: () => void;
  private onConnected: ((ms: number) => void) | undefined;
  private readonly dialStart: number;

  private constructor(sock: net.Socket, remote: string, isTls: boolean, dialTimeoutMs: number, onConnected: (ms: number) => void) {
    super(remote);
    this.sock = sock;
    sock.unref();
    this.tls = isTls;
    this.onConnected = onConnected;
    this.dialStart = performance.now();
    sock.setNoDelay(true);
    this.onDialTimeout = (): void => {
      this.timer = undefined;
      this.dialDone();
      this.fail(opError('dial', 'tcp', '', this.remote, 'i/o timeout'));
    };
    this.timer = setTimeout(this.onDialTimeout, dialTimeoutMs);
    sock.on(isTls ? 'secureConnect' : 'connect', () => this.established());
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('end', () => this.peerClosed());
    sock.on('close', () => this.peerClosed());
    sock.on('error', (e: Error) => this.onError(e as NodeJS.ErrnoException));
  }

  /** Starts a TCP (or TLS) connection; exchanges may be started at once. */
  static dial(
    host: string,
    port: number,
    remote: string,
    localAddress: string | undefined,
    tlsSettings: TlsSettings | undefined,
    dialTimeoutMs: number,
    onConnected: (ms: number) => void,
    session?: Buffer,
  ): StreamConn {
    let sock: net.Socket;
    if (tlsSettings !== undefined) {
      const opts: tls.ConnectionOptions & { localAddress?: string } = { host, port, secureContext: tlsSettings.secureContext, minVersion: 'TLSv1.2' };
      if (tlsSettings.servername !== undefined) opts.servername = tlsSettings.servername;
      if (localAddress !== undefined) opts.localAddress = localAddress;
      if (session !== undefined) opts.session = session;
      sock = tls.connect(opts);
    } else {
      const opts: net.NetConnectOpts = { host, port, noDelay: true };
      if (localAddress !== undefined) opts.localAddress = localAddress;
      sock = net.connect(opts);
    }
    return new StreamConn(sock, remote, tlsSettings !== undefined, dialTimeoutMs, onConnected);
  }

  /** Reports the dial time once (success or failure) for the adaptive dial timeout. */
  private dialDone(): void {
    const cb = this.onConnected;
    this.onConnected = undefined;
    cb?.(performance.now() - this.dialStart);
  }

  private established(): void {
    this.connected = true;
    this.local = addrString(this.sock.localAddress, this.sock.localPort);
    this.dialDone();
    if (this.resolveFn !== undefined) this.armRead(this.readTimeoutMs);
    else if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Sends a framed query and waits for the framed reply with that ID. */
  exchange(
    frame: Uint8Array,
    id: number,
    timeoutMs: number,
    signal: AbortSource | undefined,
    mode: ReadMode = 'strict',
    sink?: ReplySink,
    origId = 0,
    start = 0,
  ): Promise<Reply> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.dead) return Promise.reject(new UpstreamError(this.cached ? ERR_CACHED_CLOSED : 'EOF', this.cached ? 'cached-closed' : 'io'));
    this.chunks = [];
    this.buffered = 0;
    this.readTimeoutMs = timeoutMs;
    const p = this.begin(id, mode, signal, sink, origId, start);
    if (this.connected) this.armRead(timeoutMs);
    this.sock.write(frame);
    return p;
  }

  private onData(d: Buffer): void {
    if (this.resolveFn === undefined) return; // nothing asked: stray bytes are dropped
    this.chunks.push(d);
    this.buffered += d.length;
    while (this.resolveFn !== undefined && this.buffered >= 2) {
      let head = this.chunks[0]!;
      if (head.length < 2) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const len = (head[0]! << 8) | head[1]!;
      if (this.buffered < 2 + len) return;
      if (head.length < 2 + len) {
        head = Buffer.concat(this.chunks);
        this.chunks = [head];
      }
      const msg = head.subarray(2, 2 + len);
      if (head.length === 2 + len) this.chunks.shift();
      else this.chunks[0] = head.subarray(2 + len);
      this.buffered -= 2 + len;
      this.receive(msg, false);
    }
  }

  private onError(e: NodeJS.ErrnoException): void {
    if (!this.connected) this.dialDone();
    if (this.resolveFn === undefined) {
      this.close();
      return;
    }
    if (!this.connected) {
      if (e.syscall !== undefined) this.fail(opError('dial', 'tcp', '', this.remote, syscallText(e, 'connect')));
      else this.fail(new UpstreamError(tlsErrorText(e)));
      return;
    }
    this.fail(opError('read', 'tcp', this.local, this.remote, syscallText(e, 'read')));
  }

  private peerClosed(): void {
    if (this.resolveFn === undefined) {
      this.close();
      return;
    }
    // io.EOF when nothing of the reply (or of its body) was read, else io.ErrUnexpectedEOF
    const b = this.buffered;
    const eof = b === 0 || b === 2;
    if (eof && this.cached) this.fail(new UpstreamError(ERR_CACHED_CLOSED, 'cached-closed'));
    else this.fail(new UpstreamError(eof ? 'EOF' : 'unexpected EOF'));
  }

  protected timedOut(): void {
    this.timer = undefined;
    this.fail(opError('read', 'tcp', this.local, this.remote, 'i/o timeout'));
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer !== undefined && this.resolveFn === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.sock.destroy();
  }
}

export type PersistConn = UdpConn | StreamConn;
