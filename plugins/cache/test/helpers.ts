/**
 * Test helpers: Corefile setup without listeners, in-process servers with
 * cache in front of forward, upstreams, replies, a settable clock and metric
 * reading.
 */
import {
  newReply,
  registry,
  setRcode,
  type DnsRecord,
  type Handler,
  type Msg,
  type MetricFamilySnapshot,
  type PluginDefinition,
  type RR,
} from '@tsdns/core';
import { buildCorefile, serveCorefile, setupError as corefileSetupError, type CorefileInputOptions, type TestServer } from '@tsdns/testing';
import forwardPlugin from '@tsdns/plugin-forward';
import whoami from '@tsdns/plugin-whoami';
import cachePlugin, { Cache } from '../src/index.js';

export { startUpstream as upstream } from '@tsdns/testing';

export const plugins: PluginDefinition[] = [cachePlugin, forwardPlugin, whoami];

/** Setup only (no listeners), keys without a port on 53, CoreDNS's `dns://:53` keys. */
const setupOnly = (extra: PluginDefinition[] = []): CorefileInputOptions => ({ plugins: [...plugins, ...extra], defaultPort: '53', loopback: false });

/** Runs the setup of a Corefile (no listeners); returns the cache of the first block. */
export async function setupCache(corefile: string, extra: PluginDefinition[] = []): Promise<Cache> {
  const instance = await buildCorefile(corefile, setupOnly(extra));
  const c = instance.configs[0]!.handlers.find((h): h is Cache => h instanceof Cache);
  if (c === undefined) throw new Error('no cache handler');
  return c;
}

/** The setup error text of a Corefile (fails when setup succeeds). */
export function setupError(corefile: string): Promise<string> {
  return corefileSetupError(corefile, setupOnly());
}

/** A settable clock (ms). */
export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

export interface Served {
  server: TestServer;
  cache: Cache;
  clock: Clock;
  /** The `server` metric label. */
  label: string;
  close(): Promise<void>;
}

/** A Corefile running in this process; the cache gets a settable clock. */
export async function serve(corefile: string, extra: PluginDefinition[] = []): Promise<Served> {
  const server = await serveCorefile(corefile, { plugins: [...plugins, ...extra] });
  const cache = server.instance.configs[0]!.handlers.find((h): h is Cache => h instanceof Cache)!;
  const clock = new Clock();
  cache.now = clock.now;
  return {
    server,
    cache,
    clock,
    label: server.addresses()[0]!.server,
    async close(): Promise<void> {
      await cache.idle();
      await server.close();
    },
  };
}

export function rr(name: string, type: string, ttl: number, data: RR['data']): RR {
  return { name, type, class: 'IN', ttl, data };
}

/** A reply to `q` with RA set and these answers. */
export function answer(q: Msg, ...answers: RR[]): Msg {
  const m = newReply(q);
  m.flags |= 0x0080;
  m.answers.push(...answers);
  return m;
}

/** A reply to `q` with an A record. */
export function aReply(q: Msg, ip = '192.0.2.1', ttl = 300): Msg {
  return answer(q, rr(q.questions[0]!.name, 'A', ttl, ip));
}

export const SOA_DATA = { mname: 'ns.example.org.', rname: 'hostmaster.example.org.', serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 3600 };

/** A denial (NXDOMAIN by default) with an SOA in the authority section. */
export function denial(q: Msg, rcode = 3, soaTTL = 3600): Msg {
  const m = newReply(q);
  m.flags |= 0x0080;
  setRcode(m, rcode);
  m.authorities.push(rr('example.org.', 'SOA', soaTTL, SOA_DATA));
  return m;
}

/** A reply with this rcode and nothing else. */
export function rcodeReply(q: Msg, rcode: number): Msg {
  const m = newReply(q);
  m.flags |= 0x0080;
  setRcode(m, rcode);
  return m;
}

/** A handler that answers from a function (a stand-in for what comes after the cache). */
export function fakeNext(f: (r: Msg) => Msg | undefined, calls: { n: number } = { n: 0 }): Handler {
  return {
    name: 'fake',
    ServeDNS(_ctx, w, r): number {
      calls.n++;
      const m = f(r);
      if (m === undefined) return 2; // SERVFAIL: nothing written
      w.writeMsg(m);
      return 0;
    },
  };
}

/** A cache configured by `corefile` whose next handler is `next`. */
export async function cacheWith(corefile: string, next: Handler, clock = new Clock()): Promise<Cache> {
  const c = await setupCache(corefile);
  c.next = next;
  c.now = clock.now;
  return c;
}

/** The value of a metric sample with exactly these labels (undefined when absent). */
export async function metricValue(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = registry.getSingleMetric(name) as unknown as { get(): Promise<MetricFamilySnapshot> } | undefined;
  if (m === undefined) return undefined;
  const snap = await m.get();
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const v of snap.values) {
    if (JSON.stringify(Object.entries(v.labels).map(([k, x]) => [k, String(x)]).sort()) === want) return v.value;
  }
  return undefined;
}

/** The TTL of a record (undefined for OPT). */
export function ttlOf(r: DnsRecord | undefined): number | undefined {
  return r === undefined || r.type === 'OPT' ? undefined : (r as RR).ttl;
}
