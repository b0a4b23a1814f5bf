/**
 * Free ports for servers under test. Ports are picked below the kernel's
 * ephemeral range (so that client sockets of concurrent tests cannot grab
 * them between the check and the server's bind) and checked by binding TCP
 * and UDP on every interface, as the server will.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 12000) return n;
  } catch {
    // not Linux
  }
  return 32768;
}

function tryTcp(port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    const o: net.ListenOptions = { port, exclusive: true };
    if (host !== undefined) o.host = host;
    srv.listen(o, () => srv.close(() => resolve(true)));
  });
}

function tryUdp(port: number, type: 'udp4' | 'udp6', host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(type);
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // never bound
      }
      resolve(false);
    });
    s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

let v6: boolean | undefined;
async function hasV6(): Promise<boolean> {
  if (v6 === undefined) v6 = await tryUdp(0, 'udp6', '::');
  return v6;
}

/** True when `port` can be bound for both TCP and UDP on all interfaces right now. */
export async function isPortFree(port: number): Promise<boolean> {
  if (!(await tryTcp(port, undefined))) return false;
  if (await hasV6()) return tryUdp(port, 'udp6', '::');
  return tryUdp(port, 'udp4', '0.0.0.0');
}

/**
 * A port that is free for both TCP and UDP (checked by binding both), never
 * handed out twice by this process.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(10000, high - 12000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await isPortFree(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free port found');
}
