/**
 * Queries to a UDP upstream multiplexed over connected sockets: each socket
 * carries up to MUX_MAX_INFLIGHT queries at once, told apart by their random
 * IDs (never two alike in flight on one socket). What an exchange sees is
 * what it sees on a socket of its own (UdpConn): the reply with its ID, cut
 * to its read size; replies with other IDs ignored; its own read timeout
 * (`read udp A->B: i/o timeout`); a reply that does not decode fails it. A
 * socket error (an ICMP port unreachable, ...) fails every exchange on the
 * socket, which is then closed. The read timeouts of a socket share one
 * timer: exchanges sit in a list in deadline order.
 */
import type dgram from 'node:dgram';
import { type Abortable, type AbortSource, type AbortState } from '@tsdns/core';
import { abortError, opError, syscallText, UpstreamError } from './errors.js';
import { openUdpSocket, readUdpReply, sendDatagram, type Reply } from './conn.js';
import { randomId } from './ids.js';

/**
 * Queries in flight on one socket at most. It bounds what the socket's
 * receive buffer must hold when the process is slow to read (a socket per
 * query never queues more than one reply).
 */
export const MUX_MAX_INFLIGHT = 64;

/**
 * IDs of exchanges that timed out or were cancelled are not used again on
 * their socket: their replies may still come (a socket per query would have
 * been closed), and must not be taken for another query's. A socket that
 * has set aside this many IDs takes no more queries.
 */
export const MUX_MAX_SET_ASIDE = 1024;

/** Told about a reply before the exchange's promise resolves (the upstream: client ID, duration). */
export interface MuxSink {
  /** `now`: performance.now() when the reply was read. */
  muxReplied(m: Reply, origId: number, start: number, now: number): void;
}

/** One exchange in flight; also its node in the socket's deadline list. */
class Pending implements Abortable {
  readonly mux: UdpMux;
  readonly id: number;
  readonly size: number;
  readonly deadline: number;
  readonly sink: MuxSink;
  readonly origId: number;
  readonly start: number;
  readonly signal: AbortSource | undefined;
  resolve: (m: Reply) => void = noop;
  reject: (e: UpstreamError) => void = noop;
  prev: Pending | undefined = undefined;
  next: Pending | undefined = undefined;

  constructor(mux: UdpMux, id: number, size: number, deadline: number, sink: MuxSink, origId: number, start: number, signal: AbortSource | undefined) {
    this.mux = mux;
    this.id = id;
    this.size = size;
    this.deadline = deadline;
    this.sink = sink;
    this.origId = origId;
    this.start = start;
    this.signal = signal;
  }

  onAbort(signal: AbortState): void {
    this.mux.abandon(this, abortError(signal));
  }
}

function noop(): void {
  // settled
}

export class UdpMux {
  readonly sock: dgram.Socket;
  /** Local and remote address for error texts. */
  readonly local: string;
  readonly remote: string;
  /** performance.now() of creation and of the last reply or send. */
  readonly created: number;
  used: number;
  /** Closed after an error or by the pool: takes no more queries. */
  dead = false;
  /** Too old (max_age) or idle too long: takes no more queries, closed once the last one is settled. */
  retired = false;
  /** Called when the last exchange in flight is settled (unless retired). */
  onIdle: ((m: UdpMux) => void) | undefined = undefined;
  private readonly inflight = new Map<number, Pending>();
  private readonly setAside = new Set<number>();
  /** Queries handed this socket that have not sent yet (see `reserve`). */
  private reserved = 0;
  private head: Pending | undefined = undefined;
  private tail: Pending | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timerAt = 0;
  private readonly onTimer = (): void => this.expire();
  private readonly onMessage = (b: Buffer): void => this.receive(b);
  private readonly onError = (e: Error): void => this.socketError(e as NodeJS.ErrnoException);

  private constructor(sock: dgram.Socket, remote: string, local: string) {
    this.sock = sock;
    this.remote = remote;
    this.local = local;
    this.created = performance.now();
    this.used = this.created;
    sock.on('message', this.onMessage);
    sock.on('error', this.onError);
  }

  /** Opens a socket connected to host:port (bound to `localAddress` if given). */
  static async open(host: string, port: number, remote: string, localAddress: string | undefined): Promise<UdpMux> {
    const { sock, local } = await openUdpSocket(host, port, remote, localAddress);
    return new UdpMux(sock, remote, local);
  }

  /** Exchanges in flight, and queries about to send (reserved). */
  get size(): number {
    return this.inflight.size + this.reserved;
  }

  /** Takes another query: open, not retired, below the in-flight cap. */
  get available(): boolean {
    return !this.dead && !this.retired && this.size < MUX_MAX_INFLIGHT;
  }

  /** Holds a place for a query that sends later (`exchange(..., true)`): handed out while the socket opened. */
  reserve(): void {
    this.reserved++;
  }

  /** `id` unless a query with that ID is in flight here, else another random ID that is free. */
  freeId(id: number): number {
    while (this.inflight.has(id) || this.setAside.has(id)) id = randomId();
    return id;
  }

  /**
   * Sends `wire` (ID already set to `id`, free on this socket) and waits for
   * the reply with that ID; a longer reply is cut to `size` as a read buffer
   * of that size would cut it. `reserved`: the query holds a place (`reserve`).
   */
  exchange(
    wire: Uint8Array,
    id: number,
    size: number,
    timeoutMs: number,
    signal: AbortSource | undefined,
    sink: MuxSink,
    origId: number,
    start: number,
    reserved = false,
  ): Promise<Reply> {
    if (reserved) this.reserved--;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.dead) return Promise.reject(opError('write', 'udp', this.local, this.remote, 'use of closed network connection'));
    const p = new Pending(this, id, size, start + timeoutMs, sink, origId, start, signal);
    const promise = new Promise<Reply>((resolve, reject) => {
      p.resolve = resolve;
      p.reject = reject;
    });
    this.inflight.set(id, p);
    this.link(p);
    if (signal !== undefined) signal.watch(p);
    this.used = start;
    sendDatagram(this.sock, wire, this.onError);
    return promise;
  }

  /** Appends to the deadline list (kept sorted; deadlines normally only grow) and arms the timer. */
  private link(p: Pending): void {
    let after = this.tail;
    while (after !== undefined && after.deadline > p.deadline) after = after.prev;
    p.prev = after;
    p.next = after === undefined ? this.head : after.next;
    if (after === undefined) this.head = p;
    else after.next = p;
    if (p.next === undefined) this.tail = p;
    else p.next.prev = p;
    if (this.timer === undefined) this.arm(this.head!.deadline);
    else if (p.deadline < this.timerAt) {
      clearTimeout(this.timer);
      this.arm(p.deadline);
    }
  }

  private unlink(p: Pending): void {
    const { prev, next } = p;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    p.prev = undefined;
    p.next = undefined;
    if (this.head === undefined && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private arm(at: number): void {
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(at - performance.now())));
  }

  /** The timer: every exchange past its deadline times out; re-armed for the next deadline. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (let p = this.head; p !== undefined && p.deadline <= now; p = this.head) {
      this.abandon(p, opError('read', 'udp', this.local, this.remote, 'i/o timeout'));
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.deadline);
  }

  private settle(p: Pending): boolean {
    if (this.inflight.get(p.id) !== p) return false;
    this.inflight.delete(p.id);
    this.unlink(p);
    if (p.signal !== undefined) p.signal.unwatch(p);
    if (this.inflight.size === 0 && !this.dead) {
      if (this.retired) this.close();
      else this.onIdle?.(this);
    }
    return true;
  }

  private succeed(p: Pending, m: Reply): void {
    if (!this.settle(p)) return;
    const now = performance.now();
    this.used = now;
    p.sink.muxReplied(m, p.origId, p.start, now);
    p.resolve(m);
  }

  /** Ends one exchange with an error; the socket stays. */
  private fail(p: Pending, e: UpstreamError): void {
    if (!this.settle(p)) return;
    p.reject(e);
  }

  /** Ends an exchange whose reply may still come (timeout, cancellation): its ID is set aside. */
  abandon(p: Pending, e: UpstreamError): void {
    if (this.inflight.get(p.id) !== p) return;
    this.setAside.add(p.id);
    if (this.setAside.size >= MUX_MAX_SET_ASIDE) this.retired = true;
    this.fail(p, e);
  }

  private receive(data: Buffer): void {
    // too short to carry an ID, or another query's reply: the exchanges keep reading
    if (data.length < 12) return;
    const p = this.inflight.get((data[0]! << 8) | data[1]!);
    if (p === undefined) return;
    const r = readUdpReply(data.length > p.size ? data.subarray(0, p.size) : data);
    if (r instanceof UpstreamError) this.fail(p, r);
    else this.succeed(p, r);
  }

  /** A send or receive error: every exchange on the socket fails with it; the socket is closed. */
  private socketError(e: NodeJS.ErrnoException): void {
    const write = e.syscall === 'send';
    const err = opError(write ? 'write' : 'read', 'udp', this.local, this.remote, syscallText(e, write ? 'write' : 'read'));
    this.close();
    for (const p of [...this.inflight.values()]) this.fail(p, err);
  }

  /** Closes the socket (exchanges still in flight time out). */
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
