/**
 * Test helpers: Corefile setup without listeners, replies, upstreams that can
 * be stopped and restarted on the same port, metrics and handle counting.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  decodeMessage,
  encodeMessage,
  Instance,
  newReply,
  PluginRegistry,
  registry,
  setRcode,
  type Msg,
  type PluginDefinition,
  type RR,
} from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import { serveCorefile, type TestServer } from '@tsdns/testing';
import whoami from '@tsdns/plugin-whoami';
import forwardPlugin, { Forward } from '../src/index.js';

export const plugins: PluginDefinition[] = [forwardPlugin, whoami];

/** Runs the setup of every plugin of a Corefile (no listeners); returns the forwards of the first block. */
export async function setupForwards(corefile: string): Promise<{ forwards: Forward[]; instance: Instance }> {
  const filename = 'Corefile';
  const blocks = parseCorefile(corefile, { filename, validDirectives: new Set(plugins.map((p) => p.name)) });
  const inspected = inspectServerBlocks(blocks, { defaultPort: '53' });
  const instance = await Instance.build({ filename, blocks: inspected, registry: PluginRegistry.of(plugins) });
  const forwards = instance.configs[0]!.handlers.filter((h): h is Forward => h instanceof Forward);
  return { forwards, instance };
}

/** The setup error text of a Corefile (fails the test when setup succeeds). */
export async function setupError(corefile: string): Promise<string> {
  try {
    await setupForwards(corefile);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`setup succeeded for:\n${corefile}`);
}

/** A whole configuration listening on 127.0.0.1 (forward, then whoami in the chain). */
export function serve(corefile: string): Promise<TestServer> {
  return serveCorefile(corefile, { plugins });
}

/** A reply to `q` with an A record. */
export function aReply(q: Msg, ip = '192.0.2.1', ttl = 60): Msg {
  const m = newReply(q);
  m.flags |= 0x0080; // RA
  const rr: RR = { name: q.questions[0]!.name, type: 'A', class: 'IN', ttl, data: ip };
  m.answers.push(rr);
  return m;
}

/** A reply to `q` with this rcode and no records. */
export function rcodeReply(q: Msg, rcode: number): Msg {
  const m = newReply(q);
  setRcode(m, rcode);
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond()` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Counts of socket and timer handles keeping resources (process.getActiveResourcesInfo). */
export function handles(): { sockets: number; timers: number } {
  let sockets = 0;
  let timers = 0;
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'UDPWrap' || r === 'TCPSocketWrap' || r === 'TCPWrap' || r === 'TLSWrap') sockets++;
    else if (r === 'Timeout') timers++;
  }
  return { sockets, timers };
}

/** Waits until socket handles are back to `n` (closing is asynchronous). */
export async function socketsBackTo(n: number, timeoutMs = 2000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = handles().sockets;
    if (s <= n || Date.now() > end) return s;
    await sleep(10);
  }
}

/** The value of a metric sample (`name` may end in _count/_sum/_bucket), or undefined. */
export async function metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const all = await registry.getMetricsAsJSON();
  for (const m of all) {
    for (const v of m.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]) {
      const sampleName = v.metricName ?? m.name;
      if (sampleName !== name) continue;
      let ok = true;
      for (const [k, want] of Object.entries(labels)) if (String(v.labels[k]) !== want) ok = false;
      if (ok) return v.value;
    }
  }
  return undefined;
}

/** `metric()` with 0 for a missing sample. */
export async function metric0(name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await metric(name, labels)) ?? 0;
}

export type Handler = (q: Msg, proto: 'udp' | 'tcp') => Msg | Uint8Array | null | Promise<Msg | Uint8Array | null>;

/**
 * A DNS server on 127.0.0.1 (UDP and TCP, same port) that can be stopped and
 * started again on the same port, as an upstream that dies and comes back.
 */
export class Upstream {
  port = 0;
  handler: Handler;
  readonly requests: { msg: Msg; proto: 'udp' | 'tcp'; raw: Buffer }[] = [];
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly conns = new Set<net.Socket>();

  constructor(handler: Handler) {
    this.handler = handler;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  count(proto?: 'udp' | 'tcp'): number {
    return proto === undefined ? this.requests.length : this.requests.filter((r) => r.proto === proto).length;
  }

  private async answer(raw: Buffer, proto: 'udp' | 'tcp', send: (b: Buffer) => void): Promise<void> {
    let msg: Msg;
    try {
      msg = decodeMessage(raw);
    } catch {
      return;
    }
    this.requests.push({ msg, proto, raw: Buffer.from(raw) });
    const r = await this.handler(msg, proto);
    if (r === null) return;
    send(r instanceof Uint8Array ? Buffer.from(r) : encodeMessage(r));
  }

  async start(port = this.port): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      const tcp = net.createServer((sock) => {
        this.conns.add(sock);
        sock.on('close', () => this.conns.delete(sock));
        sock.on('error', () => sock.destroy());
        let buf = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const len = buf.readUInt16BE(0);
            const frame = buf.subarray(2, 2 + len);
            buf = buf.subarray(2 + len);
            void this.answer(frame, 'tcp', (b) => {
              if (sock.destroyed) return;
              const f = Buffer.alloc(b.length + 2);
              f.writeUInt16BE(b.length, 0);
              b.copy(f, 2);
              sock.write(f);
            });
          }
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve());
      });
      const p = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket('udp4');
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: '127.0.0.1', port: p, exclusive: true }, () => resolve());
        });
      } catch (e) {
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        if (port !== 0 || attempt > 20) throw e;
        continue;
      }
      udp.on('message', (m, rinfo) => {
        void this.answer(m, 'udp', (b) => {
          try {
            udp.send(b, rinfo.port, rinfo.address);
          } catch {
            // closed meanwhile
          }
        });
      });
      udp.on('error', () => undefined);
      this.udp = udp;
      this.tcp = tcp;
      this.port = p;
      return this;
    }
  }

  async stop(): Promise<void> {
    const u = this.udp;
    const t = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    const closed = Promise.all([
      t ? new Promise<void>((r) => t.close(() => r())) : undefined,
      u ? new Promise<void>((r) => u.close(() => r())) : undefined,
    ]);
    // connections accepted until the listener is really closed are cut too
    t?.on('connection', (c: net.Socket) => c.destroy());
    for (const c of this.conns) c.destroy();
    await closed;
  }
}

/** Starts an Upstream answering A queries with 192.0.2.1 (or `handler`). */
export function upstream(handler: Handler = (q) => aReply(q)): Promise<Upstream> {
  return new Upstream(handler).start();
}

/** Closes a server without throwing. */
export async function closeAll(...xs: ({ close(): Promise<void> } | { stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const x of xs) {
    if (x === undefined) continue;
    if ('stop' in x) await x.stop();
    else await x.close();
  }
}
