/**
 * ResponseWriter: how a handler answers. Wrapping writers (the metrics
 * recorder, gathersrv's merger, the cache) intercept `writeMsg` and `write`.
 */
import { messageLen, type Msg } from './wire/message.js';
import { rcodeOf } from './msg.js';

export type TransportName = 'udp' | 'tcp' | 'tls' | 'https' | 'grpc';

export interface Address {
  /** IP address without brackets or zone (`127.0.0.1`, `::1`). */
  address: string;
  port: number;
  /** 4 or 6 (IPv4-mapped IPv6 addresses count as 4). */
  family: 4 | 6;
}

export interface ResponseWriter {
  /** Encodes and sends a message (after the server's EDNS/truncation scrub). */
  writeMsg(m: Msg): void;
  /**
   * Sends a message already in wire format, as is. `len`, when given, is the
   * length the reply had before the server's scrub added the OPT echo (what
   * recorders count, as CoreDNS's do for `writeMsg`).
   */
  write(wire: Uint8Array, len?: number): void;
  /** The client. */
  readonly remote: Address;
  /** The server address the query arrived on. */
  readonly local: Address;
  /** How the query arrived: udp, tcp, tls (DoT), https (DoH). */
  readonly transport: TransportName;
  /** `udp` for UDP, `tcp` for every stream transport (as CoreDNS's `Proto()`). */
  readonly proto: 'udp' | 'tcp';
}

/** Base class for writers that wrap another writer. */
export class WrappedWriter implements ResponseWriter {
  readonly inner: ResponseWriter;
  constructor(inner: ResponseWriter) {
    this.inner = inner;
  }
  writeMsg(m: Msg): void {
    this.inner.writeMsg(m);
  }
  write(wire: Uint8Array, len?: number): void {
    this.inner.write(wire, len);
  }
  get remote(): Address {
    return this.inner.remote;
  }
  get local(): Address {
    return this.inner.local;
  }
  get transport(): TransportName {
    return this.inner.transport;
  }
  get proto(): 'udp' | 'tcp' {
    return this.inner.proto;
  }
}

/**
 * Records what was written through it: rcode, total length (as CoreDNS's
 * recorder: the message's uncompressed length before the server's scrub), the
 * last message, and when it was created.
 */
export class Recorder extends WrappedWriter {
  rcode = 0;
  len = 0;
  msg: Msg | undefined = undefined;
  /** Set instead of `msg` when the reply was written as wire bytes. */
  wire: Uint8Array | undefined = undefined;
  wrote = false;
  readonly start: number;

  constructor(inner: ResponseWriter) {
    super(inner);
    this.start = performance.now();
  }

  override writeMsg(m: Msg): void {
    this.rcode = rcodeOf(m);
    this.len += messageLen(m, false);
    this.msg = m;
    this.wire = undefined;
    this.wrote = true;
    this.inner.writeMsg(m);
  }

  override write(wire: Uint8Array, len?: number): void {
    this.wrote = true;
    this.len += len ?? wire.length;
    if (wire.length >= 4) this.rcode = wire[3]! & 0xf;
    this.wire = wire;
    this.msg = undefined;
    this.inner.write(wire, len);
  }
}
