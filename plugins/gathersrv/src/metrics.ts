/**
 * gathersrv's metrics on core's shared registry, created once per process
 * (like promauto): gathersrv's two counters with their names, labels and help
 * strings, and tsdns's per-cluster health metrics.
 *
 * The counters are core CounterVecs; each handler keeps the children it uses
 * (per server, per cluster, per type, per code) so that a query does no label
 * hashing.
 */
import { CounterVec, GaugeVec, metricOnce, type CounterChild } from '@tsdns/core';

/** `coredns_gathersrv_request_count_total{server, qualified, type}`: every request seen. */
export const requestCount: CounterVec = metricOnce(
  'coredns_gathersrv_request_count_total',
  () =>
    new CounterVec({
      name: 'coredns_gathersrv_request_count_total',
      help: 'Counter of requests processed via plugin',
      labelNames: ['server', 'qualified', 'type'],
    }),
);

/** `coredns_gathersrv_sub_request_count_total{server, prefix, type, code}`: one per finished sub-request. */
export const subRequestCount: CounterVec = metricOnce(
  'coredns_gathersrv_sub_request_count_total',
  () =>
    new CounterVec({
      name: 'coredns_gathersrv_sub_request_count_total',
      help: 'Counter of sub requests.',
      labelNames: ['server', 'prefix', 'type', 'code'],
    }),
);

/**
 * `coredns_gathersrv_sub_request_failures_total{server, prefix, reason}` (tsdns):
 * sub-requests that had given no reply when the answer was sent (`timeout`)
 * or that ended without a reply (`error`).
 */
export const subRequestFailures: CounterVec = metricOnce(
  'coredns_gathersrv_sub_request_failures_total',
  () =>
    new CounterVec({
      name: 'coredns_gathersrv_sub_request_failures_total',
      help: 'Counter of sub requests that gave no reply in time (reason timeout) or ended without a reply (reason error).',
      labelNames: ['server', 'prefix', 'reason'],
    }),
);

/**
 * `coredns_gathersrv_sub_request_skipped_total{server, prefix}` (tsdns):
 * sub-requests not sent because their cluster is down and already probed.
 */
export const subRequestSkipped: CounterVec = metricOnce(
  'coredns_gathersrv_sub_request_skipped_total',
  () =>
    new CounterVec({
      name: 'coredns_gathersrv_sub_request_skipped_total',
      help: 'Counter of sub requests not sent because the cluster is down.',
      labelNames: ['server', 'prefix'],
    }),
);

/** `coredns_gathersrv_cluster_healthy{domain, cluster, prefix}` (tsdns): 1 up, 0 down. */
export const clusterHealthy: GaugeVec = metricOnce(
  'coredns_gathersrv_cluster_healthy',
  () =>
    new GaugeVec({
      name: 'coredns_gathersrv_cluster_healthy',
      help: 'Whether a cluster answers sub requests (1) or is considered down (0).',
      labelNames: ['domain', 'cluster', 'prefix'],
    }),
);

/** The qualified query types, in the index order used by the metric children. */
export const QUALIFIED_TYPES: readonly string[] = ['SRV', 'A', 'AAAA', 'TXT'];

/** Failure reasons, by index. */
export const REASON_TIMEOUT = 0;
export const REASON_ERROR = 1;

/** Children of one cluster for one server. */
interface ClusterChildren {
  /** By qualified type index, then code. */
  readonly sub: (CounterChild | undefined)[][];
  readonly failures: (CounterChild | undefined)[];
  skipped: CounterChild | undefined;
}

/**
 * The metric children a handler uses on one server (listener), created on
 * first use and kept.
 */
export class ServerMetrics {
  readonly server: string;
  private readonly prefixes: readonly string[];
  private readonly qualified = new Map<string, CounterChild>();
  private readonly unqualified = new Map<string, CounterChild>();
  private readonly clusters: ClusterChildren[];

  constructor(server: string, prefixes: readonly string[]) {
    this.server = server;
    this.prefixes = prefixes;
    this.clusters = prefixes.map(() => ({ sub: QUALIFIED_TYPES.map(() => []), failures: [undefined, undefined], skipped: undefined }));
  }

  /** Counts a request; `qtype` as written in the question, `label` its mnemonic (computed only once per type). */
  request(qualified: boolean, qtype: string, label: (qtype: string) => string): void {
    const m = qualified ? this.qualified : this.unqualified;
    let c = m.get(qtype);
    if (c === undefined) {
      c = requestCount.child([this.server, qualified ? 'true' : 'false', label(qtype)]);
      if (m.size < 256) m.set(qtype, c);
    }
    c.inc();
  }

  /** Counts a finished sub-request of cluster `ci` with the code its handler returned. */
  sub(ci: number, typeIndex: number, code: number): void {
    const row = this.clusters[ci]!.sub[typeIndex]!;
    let c = code >= 0 && code < 4096 ? row[code] : undefined;
    if (c === undefined) {
      c = subRequestCount.child([this.server, this.prefixes[ci]!, QUALIFIED_TYPES[typeIndex]!, String(code)]);
      if (code >= 0 && code < 4096) row[code] = c;
    }
    c.inc();
  }

  failure(ci: number, reason: number): void {
    const f = this.clusters[ci]!.failures;
    (f[reason] ??= subRequestFailures.child([this.server, this.prefixes[ci]!, reason === REASON_TIMEOUT ? 'timeout' : 'error'])).inc();
  }

  skipped(ci: number): void {
    const c = this.clusters[ci]!;
    (c.skipped ??= subRequestSkipped.child([this.server, this.prefixes[ci]!])).inc();
  }
}
