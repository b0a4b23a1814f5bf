/**
 * A real DNS server on 127.0.0.1 (UDP and TCP on the same random port)
 * answering from a function: the upstream for forward-style plugin tests.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { decodeMessage, encodeMessage, toAddress, type Address, type Msg } from '@tsdns/core';

export interface UpstreamRequest {
  /** The decoded query. */
  msg: Msg;
  /** The bytes received. */
  raw: Buffer;
  proto: 'udp' | 'tcp';
  /** The client (the plugin under test). */
  remote: Address;
}

/**
 * Answers a query: a Msg (encoded uncompressed), raw bytes (sent as is), or
 * null/undefined for no answer at all. May be asynchronous (delays, timeouts).
 */
export type UpstreamHandler = (
  q: Msg,
  req: UpstreamRequest,
) => Msg | Uint8Array | null | undefined | void | Promise<Msg | Uint8Array | null | undefined | void>;

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly address: string;
  /** Every query received (decodable or not), in arrival order. */
  readonly requests: UpstreamRequest[];
  /** Errors thrown by the handler or raised decoding queries. */
  readonly errors: unknown[];
  /** Replaces the handler. */
  setHandler(h: UpstreamHandler): void;
  /** Stops both sockets and closes open TCP connections. */
  close(): Promise<void>;
}

function bindUdp(sock: dgram.Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(srv: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true }, () => {
      srv.off('error', reject);
      resolve();
    });
  });
}

/** Starts an upstream DNS server answering with `handler`. */
export async function startUpstream(handler: UpstreamHandler, host = '127.0.0.1'): Promise<Upstream> {
  let h = handler;
  const requests: UpstreamRequest[] = [];
  const errors: unknown[] = [];
  const conns = new Set<net.Socket>();

  const answer = async (raw: Buffer, proto: 'udp' | 'tcp', remote: Address, reply: (b: Buffer) => void): Promise<void> => {
    let msg: Msg;
    try {
      msg = decodeMessage(raw);
    } catch (e) {
      errors.push(e);
      return;
    }
    const req: UpstreamRequest = { msg, raw, proto, remote };
    requests.push(req);
    try {
      const r = await h(msg, req);
      if (r === null || r === undefined) return;
      reply(r instanceof Uint8Array ? Buffer.from(r.buffer, r.byteOffset, r.byteLength) : encodeMessage(r));
    } catch (e) {
      errors.push(e);
    }
  };

  const tcp = net.createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const remote = toAddress(sock.remoteAddress, sock.remotePort);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const frame = Buffer.from(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        void answer(frame, 'tcp', remote, (b) => {
          if (sock.destroyed) return;
          const f = Buffer.allocUnsafe(b.length + 2);
          f.writeUInt16BE(b.length, 0);
          b.copy(f, 2);
          sock.write(f);
        });
      }
    });
  });

  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    await listenTcp(tcp, host, 0);
    port = (tcp.address() as net.AddressInfo).port;
    const u = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    try {
      await bindUdp(u, host, port);
      udp = u;
      break;
    } catch (e) {
      u.close();
      await new Promise<void>((r) => tcp.close(() => r()));
      if (attempt >= 20) throw e;
    }
  }
  const udpSock = udp;
  udpSock.on('message', (raw, rinfo) => {
    void answer(raw, 'udp', toAddress(rinfo.address, rinfo.port), (b) => {
      udpSock.send(b, rinfo.port, rinfo.address, () => undefined);
    });
  });
  udpSock.on('error', () => undefined);

  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    requests,
    errors,
    setHandler(nh: UpstreamHandler): void {
      h = nh;
    },
    async close(): Promise<void> {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => tcp.close(() => r())),
        new Promise<void>((r) => {
          try {
            udpSock.close(() => r());
          } catch {
            r();
          }
        }),
      ]);
    },
  };
}
