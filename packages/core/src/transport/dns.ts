/**
 * dns:// listeners: one UDP socket and one TCP listener on the same address.
 * The server behind a listener can be swapped (reload) without closing the
 * sockets, so no query is lost across a configuration change.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import type { Server, ConnWriter } from '../server.js';
import { encodeMessage, type Msg } from '../wire/message.js';
import type { Address, TransportName } from '../writer.js';
import { toAddress } from './addr.js';

/** Upper bound of simultaneous TCP connections per listener. */
export const MAX_TCP_CONNECTIONS = 10000;
/** Queries read ahead on one TCP connection before reading pauses. */
export const MAX_TCP_INFLIGHT = 128;

export interface Listener {
  /** `dns://:53` */
  readonly key: string;
  server: Server;
  listen(): Promise<void>;
  /** Stops accepting, lets in-flight queries finish (at most graceMs), then closes. */
  close(graceMs: number): Promise<void>;
  /** Addresses actually bound (useful with port 0). */
  addresses(): { transport: string; address: string; port: number }[];
}

/** Turns a Node socket error into CoreDNS's start error text. */
export function listenError(proto: string, host: string, port: number | string, e: NodeJS.ErrnoException): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why = e.code === 'EADDRINUSE' ? 'bind: address already in use' : e.code === 'EACCES' ? 'bind: permission denied' : e.code === 'EADDRNOTAVAIL' ? 'bind: cannot assign requested address' : e.message;
  return new Error(`Listen: listen ${proto} ${where}: ${why}`);
}

/** True for a dotted-quad IPv4 address as Node's `isIPv4` accepts it (no leading zeros). */
function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let v = -1;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && v === 0) return false;
      v = v < 0 ? c - 48 : v * 10 + (c - 48);
      if (v > 255) return false;
      digits++;
    } else if (c === 46 && digits > 0 && parts < 3) {
      parts++;
      v = -1;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts === 3 && digits > 0;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The UDP sockets' address lookup (dgram's `lookup` option), used for every
 * reply: a client's address is always an IP literal, which is handed back at
 * once. dns.lookup, the default, answers literals too, but only on the next
 * tick and after a regular-expression match, for every datagram sent.
 * Anything else still goes through dns.lookup.
 */
function udpLookup(address: string, family: dns.LookupOneOptions | number, cb: LookupCallback): void {
  if (isDottedQuad(address)) {
    cb(null, address, 4);
    return;
  }
  if (address.includes(':') && net.isIPv6(address)) {
    cb(null, address, 6);
    return;
  }
  // dgram passes the socket's family as a number (its typings say options)
  if (typeof family === 'number') dns.lookup(address, family, cb);
  else dns.lookup(address, family, cb);
}

class UdpWriter implements ConnWriter {
  private readonly sock: dgram.Socket;
  private readonly rinfo: dgram.RemoteInfo;
  private readonly localAddr: Address;
  private _remote: Address | undefined;
  readonly transport: TransportName = 'udp';
  readonly proto = 'udp' as const;

  constructor(sock: dgram.Socket, rinfo: dgram.RemoteInfo, local: Address) {
    this.sock = sock;
    this.rinfo = rinfo;
    this.localAddr = local;
  }
  get remote(): Address {
    return (this._remote ??= toAddress(this.rinfo.address, this.rinfo.port));
  }
  get local(): Address {
    return this.localAddr;
  }
  send(m: Msg, compress: boolean, len?: number): void {
    this.write(encodeMessage(m, compress, false, len));
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  write(wire: Uint8Array): void {
    // No callback: Node then completes the send without scheduling one, and a
    // reply that cannot be sent is dropped, as in CoreDNS.
    try {
      this.sock.send(wire, this.rinfo.port, this.rinfo.address);
    } catch {
      // the socket was closed under an in-flight query
    }
  }
}


class TcpConn {
  readonly sock: net.Socket;
  readonly listener: DnsListener;
  readonly remote: Address;
  readonly local: Address;
  private chunks: Buffer[] = [];
  private buffered = 0;
  inflight = 0;
  private served = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private paused = false;

  constructor(sock: net.Socket, listener: DnsListener, transport: TransportName) {
    this.sock = sock;
    this.listener = listener;
    this.remote = toAddress(sock.remoteAddress, sock.remotePort);
    this.local = toAddress(sock.localAddress, sock.localPort);
    this.transport = transport;
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => this.destroy());
    sock.on('close', () => this.onClose());
    this.arm(listener.server.readTimeout);
  }
  readonly transport: TransportName;

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(), ms);
    this.timer.unref?.();
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
    this.drain();
  }

  private drain(): void {
    let served = false;
    while (!this.closing && this.buffered >= 2) {
      if (this.inflight >= MAX_TCP_INFLIGHT) {
        if (!this.paused) {
          this.paused = true;
          this.sock.pause();
        }
        break;
      }
      const head = this.peek(2);
      const len = (head[0]! << 8) | head[1]!;
      if (this.buffered < 2 + len) break;
      const frame = this.take(2 + len);
      served = true;
      this.served++;
      const server = this.listener.server;
      const p = server.serve(frame.subarray(2), new TcpWriter(this));
      if (p !== undefined) {
        this.inflight++;
        this.listener.pending++;
        p.then(this.settleFn, this.settleFn);
      }
      const limit = server.maxTcpQueries;
      if (limit > 0 && this.served >= limit) {
        this.closing = true;
        this.endWhenIdle();
        return;
      }
    }
    // The read deadline runs per message: first the read timeout, then the idle
    // timeout after each answered message; it is paused while queries are in flight.
    if (served) {
      if (this.inflight === 0) this.arm(this.listener.server.idleTimeout);
      else if (this.timer) clearTimeout(this.timer);
    }
  }

  private readonly settleFn = (): void => this.settle();

  /** Called when an asynchronous query on this connection finished. */
  private settle(): void {
    this.inflight--;
    this.listener.pending--;
    if (this.paused && this.inflight < MAX_TCP_INFLIGHT) {
      this.paused = false;
      this.sock.resume();
    }
    if (this.closing) this.endWhenIdle();
    else if (this.inflight === 0) {
      this.arm(this.listener.server.idleTimeout);
      if (this.buffered >= 2) this.drain();
    } else if (this.buffered >= 2) this.drain();
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    let first = this.chunks[0]!;
    if (first.length < n) {
      first = Buffer.concat(this.chunks);
      this.chunks = [first];
    }
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  writeFrame(frame: Uint8Array): void {
    if (this.sock.destroyed) return;
    const ok = this.sock.write(frame);
    if (!ok) {
      const t = setTimeout(() => this.destroy(), this.listener.server.writeTimeout);
      t.unref?.();
      this.sock.once('drain', () => clearTimeout(t));
    }
  }

  /** Graceful: stop reading, close once in-flight queries are answered. */
  shutdown(): void {
    this.closing = true;
    this.sock.pause();
    this.endWhenIdle();
  }

  private endWhenIdle(): void {
    if (this.inflight > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.sock.end();
    const t = setTimeout(() => this.destroy(), 1000);
    t.unref?.();
  }

  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.closing = true;
    this.sock.destroy();
  }

  private onClose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.closing = true;
    this.listener.conns.delete(this);
  }
}

/** The writer of one query on a TCP (or TLS) connection. */
class TcpWriter implements ConnWriter {
  private readonly conn: TcpConn;
  readonly proto = 'tcp' as const;
  constructor(conn: TcpConn) {
    this.conn = conn;
  }
  get transport(): TransportName {
    return this.conn.transport;
  }
  get remote(): Address {
    return this.conn.remote;
  }
  get local(): Address {
    return this.conn.local;
  }
  send(m: Msg, compress: boolean, len?: number): void {
    this.conn.writeFrame(encodeMessage(m, compress, true, len));
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  write(wire: Uint8Array): void {
    const f = Buffer.allocUnsafe(wire.length + 2);
    f[0] = wire.length >>> 8;
    f[1] = wire.length & 0xff;
    f.set(wire, 2);
    this.conn.writeFrame(f);
  }
}

export class DnsListener implements Listener {
  readonly key: string;
  server: Server;
  readonly host: string;
  private port: number;
  readonly transport: TransportName;
  udp: dgram.Socket | undefined;
  tcp: net.Server | undefined;
  readonly conns = new Set<TcpConn>();
  /** Queries being answered asynchronously. */
  pending = 0;
  private udpLocal: Address | undefined;
  private draining = false;
  private readonly settled = (): void => {
    this.pending--;
  };

  constructor(key: string, host: string, port: number, server: Server, transport: TransportName = 'udp') {
    this.key = key;
    this.host = host;
    this.port = port;
    this.server = server;
    this.transport = transport;
  }

  async listen(): Promise<void> {
    if (this.port !== 0) {
      await this.listenTcp();
      await this.listenUdp();
      return;
    }
    // Port 0: the kernel picks the TCP port and UDP takes the same number. That
    // number can be in use for UDP (a client's ephemeral port): then try another.
    for (let attempt = 1; ; attempt++) {
      this.port = 0;
      await this.listenTcp();
      try {
        await this.listenUdp();
        return;
      } catch (e) {
        const tcp = this.tcp!;
        this.tcp = undefined;
        await new Promise<void>((r) => tcp.close(() => r()));
        if (attempt >= 20 || !/address already in use/.test((e as Error).message)) throw e;
      }
    }
  }

  /** The stream server behind listenTcp (DoT wraps its connections in TLS first). */
  protected createStreamServer(): net.Server {
    return net.createServer({ pauseOnConnect: false, noDelay: true }, (sock) => this.accept(sock, 'tcp'));
  }

  protected async listenTcp(): Promise<void> {
    const srv = this.createStreamServer();
    srv.maxConnections = MAX_TCP_CONNECTIONS;
    await listenStream(srv, this.host, this.port, 'tcp');
    this.tcp = srv;
    if (this.port === 0) this.port = (srv.address() as net.AddressInfo).port;
  }

  protected accept(sock: net.Socket, transport: TransportName): void {
    if (this.draining) {
      sock.destroy();
      return;
    }
    this.conns.add(new TcpConn(sock, this, transport));
  }

  private async listenUdp(): Promise<void> {
    const host = this.host;
    const v6 = host === '' || host.includes(':');
    const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: false, lookup: udpLookup });
    try {
      await bindUdp(sock, host === '' ? '::' : host, this.port);
    } catch (e) {
      sock.close();
      if (host === '' && (e as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') {
        const s4 = dgram.createSocket({ type: 'udp4', lookup: udpLookup });
        await bindUdp(s4, '0.0.0.0', this.port).catch((err: NodeJS.ErrnoException) => {
          s4.close();
          throw listenError('udp', host, this.port, err);
        });
        this.attachUdp(s4);
        return;
      }
      throw listenError('udp', host, this.port, e as NodeJS.ErrnoException);
    }
    this.attachUdp(sock);
  }

  private attachUdp(sock: dgram.Socket): void {
    this.udp = sock;
    const a = sock.address();
    this.udpLocal = toAddress(a.address, a.port);
    sock.on('message', (msg, rinfo) => {
      if (this.draining) return;
      const raw = msg.length > 512 ? msg.subarray(0, 512) : msg;
      const p = this.server.serve(raw, new UdpWriter(sock, rinfo, this.udpLocal!));
      if (p !== undefined) {
        this.pending++;
        p.then(this.settled, this.settled);
      }
    });
    sock.on('error', () => {
      // per-datagram errors (ICMP unreachable on some stacks) must not stop the listener
    });
  }

  addresses(): { transport: string; address: string; port: number }[] {
    const out: { transport: string; address: string; port: number }[] = [];
    if (this.tcp) {
      const a = this.tcp.address() as net.AddressInfo;
      out.push({ transport: 'tcp', address: a.address, port: a.port });
    }
    if (this.udp) {
      const a = this.udp.address();
      out.push({ transport: 'udp', address: a.address, port: a.port });
    }
    return out;
  }

  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const tcpClosed = this.tcp ? new Promise<void>((res) => this.tcp!.close(() => res())) : Promise.resolve();
    for (const c of this.conns) c.shutdown();
    const deadline = Date.now() + graceMs;
    while ((this.pending > 0 || this.conns.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const c of this.conns) c.destroy();
    if (this.udp) {
      const u = this.udp;
      await new Promise<void>((res) => {
        try {
          u.close(() => res());
        } catch {
          res();
        }
      });
    }
    await Promise.race([tcpClosed, new Promise((r) => setTimeout(r, 100))]);
  }
}

function bindUdp(sock: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error): void => reject(e);
    sock.once('error', onErr);
    // not exclusive: under -workers N every worker shares the primary's socket (no effect in a single process)
    sock.bind({ address, port, exclusive: false }, () => {
      sock.off('error', onErr);
      resolve();
    });
  });
}

/** Listens a stream server on host:port ('' = every interface, dual-stack when possible). */
export function listenStream(srv: net.Server, host: string, port: number, proto: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException): void => reject(listenError(proto, host, port, e));
    srv.once('error', onErr);
    // not exclusive: under -workers N every worker shares the primary's socket (no effect in a single process)
    const opts: net.ListenOptions = { port, exclusive: false };
    if (host !== '') opts.host = host;
    srv.listen(opts, () => {
      srv.off('error', onErr);
      resolve();
    });
  });
}
