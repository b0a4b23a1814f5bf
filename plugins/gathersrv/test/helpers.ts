/**
 * Test fixtures: cluster DNS servers (real UDP/TCP servers on 127.0.0.1
 * answering from a small record table, like a cluster's CoreDNS), the
 * README's two clusters, a tsdns configuration with gathersrv in front of one
 * forward per cluster, and metric readers.
 */
import {
  AUTHORITATIVE_ANSWER,
  EDNS,
  getOpt,
  isSubDomain,
  lowerName,
  newReply,
  RCODE,
  setRcode,
  type Msg,
  type PluginDefinition,
  type RR,
  type SrvData,
} from '@tsdns/core';
import { serveCorefile, startUpstream, type TestServer, type Upstream } from '@tsdns/testing';
import cancelPlugin from '@tsdns/plugin-cancel';
import forwardPlugin from '@tsdns/plugin-forward';
import gathersrvPlugin from '../src/index.js';

/** The plugins of the test configurations, in plugin.cfg order. */
export const plugins: PluginDefinition[] = [cancelPlugin, gathersrvPlugin, forwardPlugin];

export interface ClusterZone {
  apex: string;
  records: RR[];
}

/** How a cluster server behaves for one query. */
export interface ClusterBehaviour {
  /** Delay before answering (ms). */
  delayMs?: number;
  /** Do not answer at all (a dead cluster). */
  silent?: boolean;
}

/** An SOA like the one a cluster's CoreDNS kubernetes plugin serves. */
export function soa(apex: string, ttl = 30): RR {
  return {
    name: apex,
    type: 'SOA',
    class: 'IN',
    ttl,
    data: { mname: `ns.dns.${apex}`, rname: `hostmaster.${apex}`, serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
}

/**
 * An authoritative answer from a record table: the records of the name and
 * type (SRV answers get the A/AAAA records of their targets as additionals);
 * NODATA or NXDOMAIN with the SOA otherwise; REFUSED outside the zone. The
 * query's OPT is answered with one of ours.
 */
export function zoneAnswer(zone: ClusterZone, q: Msg): Msg {
  const question = q.questions[0]!;
  const name = lowerName(question.name);
  const m = newReply(q);
  if (getOpt(q)) m.additionals.push({ name: '.', type: 'OPT', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] });
  if (!isSubDomain(zone.apex, name)) {
    setRcode(m, RCODE.REFUSED);
    return m;
  }
  m.flags |= AUTHORITATIVE_ANSWER;
  const atName = zone.records.filter((r) => lowerName(r.name) === name);
  if (atName.length === 0 && name !== zone.apex) {
    setRcode(m, RCODE.NXDOMAIN);
    m.authorities.push(soa(zone.apex));
    return m;
  }
  let answers = atName.filter((r) => r.type === question.type);
  const cname = atName.find((r) => r.type === 'CNAME');
  if (answers.length === 0 && cname !== undefined) {
    // the CNAME and, when the target is in the zone, its records
    const target = lowerName(cname.data as string);
    answers = [cname, ...zone.records.filter((r) => lowerName(r.name) === target && r.type === question.type)];
  }
  if (answers.length === 0) {
    m.authorities.push(soa(zone.apex));
    return m;
  }
  m.answers.push(...answers);
  if (question.type === 'SRV') {
    for (const a of answers) {
      const target = lowerName((a.data as SrvData).target);
      for (const r of zone.records) if (lowerName(r.name) === target && r.type === 'A') m.additionals.push(r);
    }
    // the OPT goes last, as a DNS server writes it
    const opt = m.additionals.findIndex((r) => r.type === 'OPT');
    if (opt >= 0) m.additionals.push(m.additionals.splice(opt, 1)[0]!);
  }
  return m;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A cluster DNS server; `behaviour` can be changed while it runs. */
export interface ClusterServer extends Upstream {
  behaviour: ClusterBehaviour;
  /** Question names received, lower-cased (health-check queries for `.` left out). */
  names(): string[];
}

export async function clusterServer(zone: ClusterZone, behaviour: ClusterBehaviour = {}): Promise<ClusterServer> {
  const holder: { b: ClusterBehaviour } = { b: behaviour };
  const up = await startUpstream(async (q) => {
    const b = holder.b;
    if (b.silent) return null;
    if (b.delayMs) await delay(b.delayMs);
    return zoneAnswer(zone, q);
  });
  const cs = up as ClusterServer;
  Object.defineProperty(cs, 'behaviour', {
    get: (): ClusterBehaviour => holder.b,
    set: (b: ClusterBehaviour): void => {
      holder.b = b;
    },
  });
  cs.names = (): string[] => up.requests.map((r) => lowerName(r.msg.questions[0]?.name ?? '')).filter((n) => n !== '.');
  return cs;
}

function rr(name: string, type: string, data: RR['data'], ttl = 30): RR {
  return { name, type, class: 'IN', ttl, data };
}

function srv(target: string): SrvData {
  return { priority: 0, weight: 50, port: 8080, target };
}

/** The README's cluster-a.local. (demo-service with two pods at 10.8.1.2). */
export function readmeZone(cluster: 'a' | 'b'): ClusterZone {
  const apex = `cluster-${cluster}.local.`;
  const ip = cluster === 'a' ? '10.8.1.2' : '10.9.1.2';
  const svc = `demo-service.default.svc.${apex}`;
  return {
    apex,
    records: [
      rr(`_demo._tcp.${svc}`, 'SRV', srv(`demo-service-0.default.svc.${apex}`)),
      rr(`_demo._tcp.${svc}`, 'SRV', srv(`demo-service-1.default.svc.${apex}`)),
      rr(`demo-service-0.default.svc.${apex}`, 'A', ip),
      rr(`demo-service-1.default.svc.${apex}`, 'A', ip),
      rr(`demo-service-0.default.svc.${apex}`, 'AAAA', cluster === 'a' ? 'fd00:8::102' : 'fd00:9::102'),
      rr(svc, 'A', ip),
      rr(svc, 'TXT', [`cluster=${cluster}`]),
      rr(`www.default.svc.${apex}`, 'CNAME', `demo-service-0.default.svc.${apex}`),
      rr(`only-${cluster}.default.svc.${apex}`, 'A', ip),
    ],
  };
}

export const GATHERSRV_BLOCK = `gathersrv distributed.local. {
    cluster-a.local. a-
    cluster-b.local. b-
%EXTRA%  }`;

/** A `.:0` block: [cancel] + gathersrv + one forward per cluster (+ extra lines). */
export function corefile(a: Upstream, b: Upstream, opts: { cancel?: string; gathersrv?: string; extra?: string } = {}): string {
  const lines = ['.:0 {'];
  if (opts.cancel) lines.push(`  cancel ${opts.cancel}`);
  lines.push('  ' + GATHERSRV_BLOCK.replace('%EXTRA%', opts.gathersrv ? `    ${opts.gathersrv.split('\n').join('\n    ')}\n` : ''));
  lines.push(`  forward cluster-a.local. ${a.address}`);
  lines.push(`  forward cluster-b.local. ${b.address}`);
  if (opts.extra) lines.push(`  ${opts.extra}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

export interface Scenario {
  a: ClusterServer;
  b: ClusterServer;
  s: TestServer;
  close(): Promise<void>;
}

/** Both README clusters and tsdns in front of them. */
export async function scenario(opts: { cancel?: string; gathersrv?: string; extra?: string; a?: ClusterBehaviour; b?: ClusterBehaviour } = {}): Promise<Scenario> {
  const a = await clusterServer(readmeZone('a'), opts.a);
  const b = await clusterServer(readmeZone('b'), opts.b);
  const s = await serveCorefile(corefile(a, b, opts), { plugins });
  return {
    a,
    b,
    s,
    async close(): Promise<void> {
      await s.close();
      await Promise.all([a.close(), b.close()]);
    },
  };
}

/** Records in dig's presentation (`name ttl IN TYPE rdata`), for exact comparisons. */
export function text(records: readonly { name: string; type: string; ttl?: number; data?: unknown }[]): string[] {
  return records
    .filter((r) => r.type !== 'OPT')
    .map((r) => {
      const d = r.data;
      let rd: string;
      if (r.type === 'SRV') {
        const s = d as SrvData;
        rd = `${s.priority} ${s.weight} ${s.port} ${s.target}`;
      } else if (r.type === 'SOA') {
        const s = d as { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
        rd = `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
      } else if (r.type === 'TXT') {
        rd = (d as (string | Uint8Array)[]).map((x) => JSON.stringify(typeof x === 'string' ? x : Buffer.from(x).toString())).join(' ');
      } else {
        rd = String(d);
      }
      return `${r.name} ${r.ttl ?? 0} IN ${r.type} ${rd}`;
    });
}

/** The Extended DNS Error of a reply: info code and text, or undefined. */
export function ede(m: Msg): { info: number; text: string; options: number } | undefined {
  const opt = getOpt(m);
  if (!opt) return undefined;
  const o = opt.options.find((x) => x.code === EDNS.EDE);
  if (!o) return undefined;
  const data = Buffer.from(o.data);
  return { info: data.readUInt16BE(0), text: data.subarray(2).toString('utf8'), options: opt.options.length };
}

/** The value of one series of a metric family on the shared registry (0 when absent). */
export async function metricValue(metric: { get(): Promise<{ values: { value: number; labels: Record<string, string | number> }[] }> }, labels: Record<string, string>): Promise<number> {
  const snap = await metric.get();
  for (const v of snap.values) {
    if (Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val)) return v.value;
  }
  return 0;
}

/** The `server` label of a TestServer's first listener. */
export function serverLabel(s: TestServer): string {
  return s.addresses()[0]!.server;
}

export { delay };
