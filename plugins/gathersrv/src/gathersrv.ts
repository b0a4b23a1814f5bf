/**
 * The gathersrv handler: a query for an SRV, A, AAAA or TXT name below the
 * distributed domain is sent, concurrently, through the rest of the chain as
 * one sub-query per cluster (the domain swapped for the cluster's domain, or,
 * for a host name that starts with a cluster's prefix, only to that cluster);
 * the sub-replies are merged and their names moved back into the distributed
 * domain ("masqueraded"), so that one SRV answer lists the instances of every
 * cluster with host names that share the service's parent domain.
 */
import {
  AUTHORITATIVE_ANSWER,
  clientWrite,
  decodeMessage,
  EDNS,
  isDebug,
  isOpt,
  isPromise,
  nameEqual,
  newOpt,
  newReply,
  nextOrFailure,
  PluginError,
  pluginLogger,
  RCODE,
  rcodeOf,
  rcodeOfError,
  rcodeToString,
  RECURSION_AVAILABLE,
  setRcode,
  TRUNCATED_RESPONSE,
  typeCode,
  typeToString,
  WrappedWriter,
  type Context,
  type DnsRecord,
  type Handler,
  type Logger,
  type Msg,
  type OptRecord,
  type Question,
  type Readiness,
  type ResponseWriter,
  type RR,
  type SoaData,
  type SrvData,
} from '@tsdns/core';
import { clusterHealthy, QUALIFIED_TYPES, REASON_ERROR, REASON_TIMEOUT, ServerMetrics } from './metrics.js';
import { divideDomain, joinName, prefixedHost, relativeTo, startsWithFold } from './names.js';

/** One `CLUSTER_DOMAIN PREFIX` line. */
export interface Cluster {
  /** The cluster's domain, normalised (`cluster-a.local.`). */
  readonly suffix: string;
  /** The host name prefix, verbatim (`a-`). */
  readonly prefix: string;
}

export interface GatherSrvOptions {
  /** The distributed domain, normalised (`distributed.local.`). */
  domain: string;
  /** Clusters in configuration order. */
  clusters: readonly Cluster[];
  /**
   * `timeout`: once this many milliseconds passed and at least one cluster
   * answered NOERROR, answer with what was gathered. 0 (default): wait for
   * every cluster (or for the query's context to be cancelled).
   */
  timeoutMs?: number;
  /**
   * `max_fails`: consecutive failed sub-queries after which a cluster is
   * considered down (not waited for, probed with one query at a time until
   * it answers). 0 disables. Default 2.
   */
  maxFails?: number;
  /** How long a probe of a down cluster may take (default: `timeoutMs`, or 5 s without). */
  probeTimeoutMs?: number;
}

/** Consecutive failures before a cluster is considered down. */
export const DEFAULT_MAX_FAILS = 2;
/** Probe deadline without `timeout` (forward's overall per-query deadline). */
export const DEFAULT_PROBE_TIMEOUT_MS = 5000;
/** Extended DNS Error 23 (Network Error). */
export const EDE_NETWORK_ERROR = 23;
/** gathersrv's EXTRA-TEXT, used when the query's context ended before any sub-reply. */
export const EDE_TEXT_TIMEOUT = 'Sub-queries canceled due to timeout';
/** EXTRA-TEXT when every sub-query ended without a reply (gathersrv says "timeout" here too). */
export const EDE_TEXT_FAILED = 'All sub-queries failed';

const QTYPE_INDEX = new Map<string, number>(QUALIFIED_TYPES.map((t, i) => [t, i]));
const TAKEOVER_BITS = RECURSION_AVAILABLE | AUTHORITATIVE_ANSWER | TRUNCATED_RESPONSE;
const PROBE_DEADLINE = new DOMException('gathersrv: probe deadline exceeded', 'TimeoutError');

/** Go's `dns.Type(qtype).String()` for a question type as written in a Msg. */
function typeLabel(qtype: string): string {
  const code = typeCode(qtype);
  return code === undefined ? qtype : typeToString(code);
}

/** Health of one cluster (per handler). */
export class ClusterHealth {
  /** Consecutive failed sub-queries. */
  fails = 0;
  /** Not waited for; probed one query at a time. */
  down = false;
  /** A probe is in flight. */
  probing = false;
}

/** A gathersrv directive's handler. */
export class GatherSrv implements Handler, Readiness {
  readonly name = 'gathersrv';
  next: Handler | undefined = undefined;
  readonly domain: string;
  readonly clusters: readonly Cluster[];
  readonly timeoutMs: number;
  readonly maxFails: number;
  readonly probeTimeoutMs: number;
  /** Per cluster, in configuration order. */
  readonly health: readonly ClusterHealth[];
  /** @internal */
  readonly log: Logger = pluginLogger('gathersrv');
  private readonly prefixes: readonly string[];
  private readonly byServer = new Map<string, ServerMetrics>();
  private lastServer: ServerMetrics | undefined;
  private readonly probes = new Set<AbortController>();
  private stopped = false;

  constructor(opts: GatherSrvOptions) {
    this.domain = opts.domain;
    this.clusters = opts.clusters;
    this.timeoutMs = opts.timeoutMs ?? 0;
    this.maxFails = opts.maxFails ?? DEFAULT_MAX_FAILS;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? (this.timeoutMs > 0 ? this.timeoutMs : DEFAULT_PROBE_TIMEOUT_MS);
    this.prefixes = opts.clusters.map((c) => c.prefix);
    this.health = opts.clusters.map(() => new ClusterHealth());
  }

  /** gathersrv is always ready. */
  ready(): boolean {
    return true;
  }

  /** Publishes the health gauge (OnStartup). */
  onStartup(): void {
    this.stopped = false;
    for (let i = 0; i < this.clusters.length; i++) this.publishHealth(i);
  }

  /** Aborts probes in flight and withdraws the health gauge (OnShutdown). */
  onShutdown(): void {
    this.stopped = true;
    for (const p of this.probes) p.abort(PROBE_DEADLINE);
    this.probes.clear();
    for (const c of this.clusters) {
      const key = gaugeKey(this.domain, c);
      if (gaugeOwners.get(key) === this) {
        gaugeOwners.delete(key);
        clusterHealthy.remove(this.domain, c.suffix, c.prefix);
      }
    }
  }

  /** True when the question is one gathersrv proxies: SRV/A/AAAA/TXT at or below the domain. */
  isQualified(q: Question): boolean {
    return QTYPE_INDEX.has(q.type) && relativeTo(q.name, this.domain) !== undefined;
  }

  ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
    const q = r.questions[0];
    if (q === undefined) return nextOrFailure(this.name, this.next, ctx, w, r);
    const sm = this.metrics(ctx.server);
    const ti = QTYPE_INDEX.get(q.type);
    const rel = ti === undefined ? undefined : relativeTo(q.name, this.domain);
    if (rel === undefined) {
      sm.request(false, q.type, typeLabel);
      return nextOrFailure(this.name, this.next, ctx, w, r);
    }
    sm.request(true, q.type, typeLabel);
    return new Gathering(this, sm, ctx, w, r, q, ti!, this.subRequests(rel)).run();
  }

  /**
   * The sub-query names for a qualified question whose name is `rel` + the
   * domain: for a host name that starts with cluster prefixes (after any
   * `_service._proto.` labels) only those clusters, with the prefix removed;
   * otherwise every cluster. The domain is swapped for the cluster's.
   */
  subRequests(rel: string): SubRequest[] {
    const out: SubRequest[] = [];
    const [head, rest] = divideDomain(rel);
    for (let ci = 0; ci < this.clusters.length; ci++) {
      const c = this.clusters[ci]!;
      const p = c.prefix;
      if (rest.length > p.length && startsWithFold(rest, p) && rest.charCodeAt(p.length) !== 0x2e) {
        out.push({ ci, name: joinName(head + rest.slice(p.length), c.suffix) });
      }
    }
    if (out.length > 0) return out;
    for (let ci = 0; ci < this.clusters.length; ci++) out.push({ ci, name: joinName(rel, this.clusters[ci]!.suffix) });
    return out;
  }

  /**
   * The cluster a name belongs to (label-aware suffix match; `preferred`
   * first, then configuration order) and the part in front of its domain.
   */
  locate(name: string, preferred: number): { ci: number; rel: string } | undefined {
    const c = this.clusters[preferred];
    if (c !== undefined) {
      const rel = relativeTo(name, c.suffix);
      if (rel !== undefined) return { ci: preferred, rel };
    }
    for (let ci = 0; ci < this.clusters.length; ci++) {
      if (ci === preferred) continue;
      const rel = relativeTo(name, this.clusters[ci]!.suffix);
      if (rel !== undefined) return { ci, rel };
    }
    return undefined;
  }

  /** A host name of cluster `ci` in the distributed domain, with the cluster's prefix. */
  hostName(rel: string, ci: number): string {
    return prefixedHost(rel, this.domain, this.clusters[ci]!.prefix);
  }

  /** @internal A sub-query of cluster `ci` gave a reply. */
  succeeded(ci: number): void {
    const h = this.health[ci]!;
    h.fails = 0;
    if (!h.down) return;
    h.down = false;
    const c = this.clusters[ci]!;
    this.log.info(`cluster ${c.suffix} (${c.prefix}) answers again`);
    this.publishHealth(ci);
  }

  /** @internal A sub-query of cluster `ci` gave no reply (in time). */
  failed(ci: number): void {
    if (this.maxFails <= 0) return;
    const h = this.health[ci]!;
    h.fails++;
    if (h.down || h.fails < this.maxFails) return;
    h.down = true;
    const c = this.clusters[ci]!;
    this.log.warning(`cluster ${c.suffix} (${c.prefix}) is down after ${h.fails} failed sub-queries: not waiting for it until a probe answers`);
    this.publishHealth(ci);
  }

  /** @internal Starts the deadline of a probe; returns its controller. */
  startProbe(ci: number): { ac: AbortController; timer: NodeJS.Timeout } {
    this.health[ci]!.probing = true;
    const ac = new AbortController();
    this.probes.add(ac);
    const timer = setTimeout(() => ac.abort(PROBE_DEADLINE), this.probeTimeoutMs);
    timer.unref();
    return { ac, timer };
  }

  /** @internal */
  endProbe(ci: number, ac: AbortController, timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.probes.delete(ac);
    this.health[ci]!.probing = false;
  }

  /** True once the handler was shut down (probes are not restarted). */
  get isStopped(): boolean {
    return this.stopped;
  }

  private publishHealth(ci: number): void {
    const c = this.clusters[ci]!;
    gaugeOwners.set(gaugeKey(this.domain, c), this);
    clusterHealthy.labels(this.domain, c.suffix, c.prefix).set(this.health[ci]!.down ? 0 : 1);
  }

  private metrics(server: string): ServerMetrics {
    const last = this.lastServer;
    if (last !== undefined && last.server === server) return last;
    let sm = this.byServer.get(server);
    if (sm === undefined) this.byServer.set(server, (sm = new ServerMetrics(server, this.prefixes)));
    this.lastServer = sm;
    return sm;
  }
}

/** Which handler last published a health series (a reload's old handler must not remove the new one's). */
const gaugeOwners = new Map<string, GatherSrv>();

function gaugeKey(domain: string, c: Cluster): string {
  return `${domain}\u0000${c.suffix}\u0000${c.prefix}`;
}

/** One sub-query: the cluster (index) and the question name sent. */
export interface SubRequest {
  readonly ci: number;
  readonly name: string;
}

const enum Mode {
  /** Waited for (gathersrv's behaviour). */
  Wait,
  /** A down cluster's probe: merged if it answers in time, never waited for. */
  Probe,
}

interface SubState {
  readonly ci: number;
  readonly name: string;
  readonly mode: Mode;
  done: boolean;
  wrote: boolean;
  readonly answers: DnsRecord[];
  readonly extra: DnsRecord[];
  probe: { ac: AbortController; timer: NodeJS.Timeout } | undefined;
}

interface SoaCandidate {
  rcode: number;
  rr: RR;
}

/** A sub-handler's writer: every message it writes goes into the merge. */
class SubWriter extends WrappedWriter {
  private readonly g: Gathering;
  private readonly k: number;
  constructor(inner: ResponseWriter, g: Gathering, k: number) {
    super(inner);
    this.g = g;
    this.k = k;
  }
  override writeMsg(m: Msg): void {
    this.g.collect(this.k, m);
  }
  override write(wire: Uint8Array): void {
    this.g.collect(this.k, decodeMessage(wire));
  }
}

/** A copy of the request with another question name (OPT copied, the rest shared). */
function subMessage(r: Msg, q: Question, name: string): Msg {
  const questions = r.questions.slice();
  questions[0] = { name, type: q.type, class: q.class };
  const additionals = r.additionals.map((rr) => (isOpt(rr) ? { ...rr, options: rr.options.slice() } : rr));
  return { id: r.id, type: r.type, flags: r.flags, questions, answers: r.answers.slice(), authorities: r.authorities.slice(), additionals };
}

/** An EDE option: INFO-CODE and EXTRA-TEXT. */
function edeOption(info: number, text: string): { code: number; data: Uint8Array } {
  const t = Buffer.from(text, 'utf8');
  const data = new Uint8Array(2 + t.length);
  data[0] = info >> 8;
  data[1] = info & 0xff;
  data.set(t, 2);
  return { code: EDNS.EDE, data };
}

/** The fan-out, wait and merge of one qualified query. */
class Gathering {
  private readonly g: GatherSrv;
  private readonly sm: ServerMetrics;
  private readonly ctx: Context;
  private readonly w: ResponseWriter;
  private readonly r: Msg;
  private readonly q: Question;
  private readonly ti: number;
  private readonly subs: SubState[] = [];
  private readonly requests: readonly SubRequest[];
  private readonly start = performance.now();
  private signal: AbortSignal | undefined;

  // merge state
  private merged: Msg | undefined;
  private rcode = 0;
  private written = 0;
  private soas: SoaCandidate[] | undefined;
  private opts: OptRecord[] | undefined;

  // wait state
  private launching = true;
  private flushed = false;
  private pendingAll = 0;
  private pendingWaited = 0;
  private gathered = false;
  private gatheredNoerror = false;
  private timedOut = false;
  private canceled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = (): void => {
    this.canceled = true;
    this.check();
  };
  private settle: { resolve: (rc: number) => void; reject: (e: unknown) => void } | undefined;

  // gathersrv's Reduce over finished sub-calls
  private hasResult = false;
  private resCode = 0;
  private resErr: unknown = undefined;
  private writeErr: unknown = undefined;

  constructor(g: GatherSrv, sm: ServerMetrics, ctx: Context, w: ResponseWriter, r: Msg, q: Question, ti: number, requests: readonly SubRequest[]) {
    this.g = g;
    this.sm = sm;
    this.ctx = ctx;
    this.w = w;
    this.r = r;
    this.q = q;
    this.ti = ti;
    this.requests = requests;
  }

  run(): number | Promise<number> {
    const g = this.g;
    const reqs = this.requests;
    // a down cluster is not waited for, unless every cluster asked is down
    let anyUp = false;
    for (const s of reqs) if (!g.health[s.ci]!.down) anyUp = true;
    for (const s of reqs) {
      const h = g.health[s.ci]!;
      let mode = Mode.Wait;
      if (anyUp && h.down) {
        if (h.probing || g.isStopped) {
          this.sm.skipped(s.ci);
          continue;
        }
        mode = Mode.Probe;
      }
      this.subs.push({ ci: s.ci, name: s.name, mode, done: false, wrote: false, answers: [], extra: [], probe: undefined });
      this.pendingAll++;
      if (mode === Mode.Wait) this.pendingWaited++;
    }
    const signal = (this.signal = this.ctx.signal);
    const next = g.next;
    for (let k = 0; k < this.subs.length; k++) {
      const s = this.subs[k]!;
      let ctx = this.ctx;
      if (s.mode === Mode.Probe) {
        s.probe = g.startProbe(s.ci);
        ctx = this.ctx.withSignal(s.probe.ac.signal);
      }
      const sw = new SubWriter(this.w, this, k);
      let res: number | Promise<number>;
      try {
        res = nextOrFailure(g.name, next, ctx, sw, subMessage(this.r, this.q, s.name));
      } catch (e) {
        this.complete(k, rcodeOfError(e), e);
        continue;
      }
      if (isPromise(res)) {
        res.then(
          (rc) => this.complete(k, rc, undefined),
          (e: unknown) => this.complete(k, rcodeOfError(e), e),
        );
      } else {
        this.complete(k, res, undefined);
      }
    }
    this.launching = false;
    this.check();
    if (this.flushed) return this.outcome();
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (g.timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.check();
      }, g.timeoutMs);
      this.timer.unref();
    }
    return new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  /** A message written by sub-handler `k` (gathersrv's GatherResponsePrinter.WriteMsg). */
  collect(k: number, m: Msg): void {
    const s = this.subs[k]!;
    s.wrote = true; // a reply, even a late one, shows the cluster answers (probes)
    if (this.flushed) return; // the reply is gone
    this.written++;
    this.gathered = true;
    const rc = rcodeOf(m);
    if (rc === RCODE.NOERROR) this.gatheredNoerror = true;
    let st = this.merged;
    if (st === undefined) {
      st = this.merged = { id: this.r.id, type: 'response', flags: m.flags, questions: [this.q], answers: [], authorities: [], additionals: [] };
      this.rcode = rc;
    } else if (rc === RCODE.NOERROR && this.rcode !== RCODE.NOERROR) {
      this.rcode = RCODE.NOERROR;
      st.flags = (st.flags & ~TAKEOVER_BITS) | (m.flags & TAKEOVER_BITS);
    }
    // records are kept per sub-query and put together in cluster order at the end
    for (const rr of m.answers) s.answers.push(this.masquerade(rr, s));
    for (const rr of m.additionals) if (!isOpt(rr)) s.extra.push(this.masquerade(rr, s));
    for (const rr of m.authorities) if (rr.type === 'SOA') this.soaCandidate(rr as RR, s, rc);
    // the OPT of the message that completes the set (gathersrv's counter)
    if (this.written >= this.subs.length) for (const rr of m.additionals) if (isOpt(rr)) (this.opts ??= []).push({ ...rr, options: rr.options.slice() });
  }

  /**
   * Moves a record's names into the distributed domain. The owner the
   * sub-query asked for becomes the client's question name; other owners and
   * targets below a cluster domain get the domain swapped, and host names
   * (A/AAAA/TXT/CNAME owners, SRV and CNAME targets) the cluster's prefix.
   * Records of other types are left as they are (as gathersrv does).
   */
  private masquerade(rr: DnsRecord, s: SubState): DnsRecord {
    const t = rr.type;
    if (t !== 'SRV' && t !== 'A' && t !== 'AAAA' && t !== 'TXT' && t !== 'CNAME') return rr;
    const g = this.g;
    const rec = rr as RR;
    let name = rec.name;
    if (nameEqual(name, s.name)) {
      name = this.q.name;
    } else {
      const hit = g.locate(name, s.ci);
      if (hit !== undefined) name = t === 'SRV' ? joinName(hit.rel, g.domain) : g.hostName(hit.rel, hit.ci);
    }
    let data = rec.data;
    if (t === 'SRV') {
      const d = data as SrvData;
      const hit = g.locate(d.target, s.ci);
      if (hit !== undefined) data = { ...d, target: g.hostName(hit.rel, hit.ci) };
    } else if (t === 'CNAME' && typeof data === 'string') {
      const hit = g.locate(data, s.ci);
      if (hit !== undefined) data = g.hostName(hit.rel, hit.ci);
    }
    if (name === rec.name && data === rec.data) return rr;
    return { ...rec, name, data };
  }

  /** Keeps a sub-reply's SOA (moved into the distributed domain) for a negative answer. */
  private soaCandidate(rr: RR, s: SubState, rcode: number): void {
    const g = this.g;
    const hit = g.locate(rr.name, s.ci);
    if (hit === undefined) return; // not a cluster zone's SOA
    const d = rr.data as SoaData;
    const move = (n: string): string => {
      const h = g.locate(n, hit.ci);
      return h === undefined ? n : joinName(h.rel, g.domain);
    };
    const soa: RR = { ...rr, name: joinName(hit.rel, g.domain), data: { ...d, mname: move(d.mname), rname: move(d.rname) } };
    (this.soas ??= []).push({ rcode, rr: soa });
  }

  /** Sub-handler `k` returned `code` (or threw `err`). */
  private complete(k: number, code: number, err: unknown): void {
    const s = this.subs[k]!;
    if (s.done) return;
    s.done = true;
    const g = this.g;
    this.sm.sub(s.ci, this.ti, code);
    if (err !== undefined) {
      g.log.warning(`Error occurred for: type=${typeLabel(this.q.type)}, question=${s.name}, error=${err instanceof Error ? err.message : String(err)}`);
    }
    if (s.mode === Mode.Probe) {
      const p = s.probe!;
      const deadline = p.ac.signal.aborted;
      g.endProbe(s.ci, p.ac, p.timer);
      if (s.wrote) {
        g.succeeded(s.ci);
      } else {
        this.sm.failure(s.ci, deadline ? REASON_TIMEOUT : REASON_ERROR);
        g.failed(s.ci);
      }
    } else if (!this.flushed) {
      if (s.wrote) {
        g.succeeded(s.ci);
      } else {
        this.sm.failure(s.ci, REASON_ERROR);
        g.failed(s.ci);
      }
    }
    if (this.flushed) return; // late: counted, not merged (as gathersrv)
    this.pendingAll--;
    if (s.mode === Mode.Wait) this.pendingWaited--;
    if (!this.hasResult || (this.resErr !== undefined && err === undefined)) {
      this.hasResult = true;
      this.resCode = code;
      this.resErr = err;
    }
    this.check();
  }

  /** Answers when there is nothing more worth waiting for. */
  private check(): void {
    if (this.launching || this.flushed) return;
    if (this.canceled || this.signal!.aborted) {
      this.canceled = true;
      this.finish();
    } else if (this.pendingAll === 0) {
      this.finish();
    } else if (this.pendingWaited === 0 && this.gathered) {
      this.finish(); // only down clusters' probes are left
    } else if (this.timedOut && this.gatheredNoerror) {
      this.finish(); // `timeout`
    }
  }

  private finish(): void {
    this.flushed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal!.removeEventListener('abort', this.onAbort);
    const g = this.g;
    for (const s of this.subs) {
      if (s.done || s.mode !== Mode.Wait) continue;
      if (s.wrote) {
        g.succeeded(s.ci);
      } else {
        this.sm.failure(s.ci, REASON_TIMEOUT);
        g.failed(s.ci);
      }
    }
    const out = this.reply();
    try {
      this.w.writeMsg(out);
    } catch (e) {
      this.writeErr = e;
      g.log.error(`error occurred while writing response: question=${goQuestion(this.q)}, error=${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.merged === undefined) {
      g.log.error(`response printer has an empty state - SERVFAIL returned, original question was: ${goQuestion(this.q)}`);
    } else if (isDebug()) {
      const ms = performance.now() - this.start;
      g.log.debug(
        `type=${typeLabel(this.q.type)}, question=${this.q.name}, response=;; opcode: QUERY, status: ${rcodeToString(this.rcode)}, id: ${out.id}, answer-records=${out.answers.length}, extra-records=${out.additionals.length}, gathered=${this.written}, not-gathered=${this.subs.length - this.written}, duration=${ms.toFixed(3)}ms`,
      );
    }
    const st = this.settle;
    if (st === undefined) return;
    let rc: number;
    try {
      rc = this.outcome();
    } catch (e) {
      st.reject(e);
      return;
    }
    st.resolve(rc);
  }

  /** The merged reply, or SERVFAIL with EDE 23 when no sub-reply arrived. */
  private reply(): Msg {
    const st = this.merged;
    if (st === undefined) {
      const m = newReply(this.r);
      setRcode(m, RCODE.SERVFAIL);
      const opt: OptRecord = newOpt(4096, true);
      opt.options.push(edeOption(EDE_NETWORK_ERROR, this.canceled || this.pendingAll > 0 ? EDE_TEXT_TIMEOUT : EDE_TEXT_FAILED));
      m.additionals.push(opt);
      return m;
    }
    for (const s of this.subs) {
      for (const rr of s.answers) st.answers.push(rr);
      for (const rr of s.extra) st.additionals.push(rr);
    }
    if (this.opts !== undefined) for (const o of this.opts) st.additionals.push(o);
    setRcode(st, this.rcode);
    if (st.answers.length === 0 && (this.rcode === RCODE.NOERROR || this.rcode === RCODE.NXDOMAIN) && this.soas !== undefined) {
      // a negative answer: one SOA of a cluster that gave this rcode, with the smallest TTLs
      let soa: RR | undefined;
      for (const c of this.soas) {
        if (c.rcode !== this.rcode) continue;
        if (soa === undefined) {
          soa = { ...c.rr, data: { ...(c.rr.data as SoaData) } };
          continue;
        }
        const d = soa.data as SoaData;
        const cd = c.rr.data as SoaData;
        if ((c.rr.ttl ?? 0) < (soa.ttl ?? 0)) soa.ttl = c.rr.ttl ?? 0;
        if (cd.minimum < d.minimum) d.minimum = cd.minimum;
      }
      if (soa !== undefined) st.authorities.push(soa);
    }
    return st;
  }

  /** What ServeDNS returns (gathersrv's reduced result; never "write for me": the reply is written). */
  private outcome(): number {
    if (this.writeErr !== undefined) throw this.writeErr;
    if (!this.hasResult) return RCODE.NOERROR;
    const code = clientWrite(this.resCode) ? this.resCode : RCODE.NOERROR;
    const err = this.resErr;
    if (err === undefined) return code;
    throw new PluginError(code, err instanceof Error ? err.message : String(err));
  }
}

/** A question as Go prints a dns.Question value with %v: `{name qtype qclass}`. */
function goQuestion(q: Question): string {
  return `{${q.name} ${typeCode(q.type) ?? 0} ${q.class === 'IN' ? 1 : q.class}}`;
}
