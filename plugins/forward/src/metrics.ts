/**
 * forward's and the proxy package's metrics, with CoreDNS's names, labels and
 * help strings, on the shared registry. Created once per process (like
 * promauto).
 *
 * The labelled ones are small collectors of our own: a child (one label set)
 * is a plain object holding numbers, fetched once per upstream (and rcode),
 * so the query path does no label hashing at all; the registry reads the
 * children when it is scraped. A child is exported only after its first
 * observation, as Prometheus client_golang does.
 */
import { promClient, registry, TIME_BUCKETS } from '@tsdns/core';

const MARK = Symbol.for('tsdns.forward.metric');

function counter(name: string, help: string): promClient.Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as promClient.Counter;
  return new promClient.Counter({ name, help, registers: [registry] });
}

/** One label set of a counter vector. */
export class CounterChild {
  value = 0;
  readonly labels: Readonly<Record<string, string>>;
  constructor(labels: Record<string, string>) {
    this.labels = labels;
  }
  inc(v = 1): void {
    this.value += v;
  }
}

/** One label set of a histogram vector. */
export class HistogramChild {
  readonly labels: Readonly<Record<string, string>>;
  readonly bounds: readonly number[];
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(labels: Record<string, string>, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

interface ExportMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportValue[];
  aggregator: 'sum';
}

abstract class Vec<C extends { labels: Readonly<Record<string, string>> }> {
  readonly [MARK] = true;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  protected readonly children = new Map<string, C>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract make(labels: Record<string, string>): C;

  /** The child for these label values (created on first use; keep it). */
  child(...values: string[]): C {
    const key = values.join('\u0000');
    let c = this.children.get(key);
    if (c === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      c = this.make(labels);
      this.children.set(key, c);
    }
    return c;
  }

  protected abstract exportValues(): ExportValue[];

  getForPromString(): Promise<ExportMetric> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.exportValues(), aggregator: 'sum' });
  }

  async get(): Promise<ExportMetric> {
    const m = await this.getForPromString();
    m.values = m.values.map((v) => ({ value: v.value, labels: { ...v.sharedLabels, ...v.labels }, ...(v.metricName ? { metricName: v.metricName } : {}) }));
    return m;
  }

  /** Zeroes every child (children stay valid: upstreams keep references to them). */
  abstract reset(): void;
}

export class CounterVec extends Vec<CounterChild> {
  readonly type = 'counter' as const;
  protected make(labels: Record<string, string>): CounterChild {
    return new CounterChild(labels);
  }
  reset(): void {
    for (const c of this.children.values()) c.value = 0;
  }
  protected exportValues(): ExportValue[] {
    const out: ExportValue[] = [];
    for (const c of this.children.values()) if (c.value !== 0) out.push({ labels: { ...c.labels }, value: c.value });
    return out;
  }
}

export class HistogramVec extends Vec<HistogramChild> {
  readonly type = 'histogram' as const;
  readonly bounds: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = bounds;
  }
  protected make(labels: Record<string, string>): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }
  reset(): void {
    for (const c of this.children.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
  protected exportValues(): ExportValue[] {
    const out: ExportValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      if (c.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i]!;
        out.push({ labels: { le: this.bounds[i]! }, sharedLabels: c.labels, value: acc, metricName: bucket });
      }
      out.push({ labels: { le: '+Inf' }, sharedLabels: c.labels, value: c.count, metricName: bucket });
      out.push({ labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
      out.push({ labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}

function vec<V extends Vec<CounterChild> | Vec<HistogramChild>>(make: () => V): V {
  const v = make();
  const existing = registry.getSingleMetric(v.name) as unknown as V | undefined;
  if (existing && (existing as unknown as Record<symbol, unknown>)[MARK] === true) return existing;
  registry.registerMetric(v as unknown as promClient.Metric);
  return v;
}

/** `coredns_forward_healthcheck_broken_total`: every upstream was down. */
export const healthcheckBrokenCount: promClient.Counter = counter(
  'coredns_forward_healthcheck_broken_total',
  'Counter of the number of complete failures of the healthchecks.',
);

/** `coredns_forward_max_concurrent_rejects_total`: queries refused by max_concurrent. */
export const maxConcurrentRejectCount: promClient.Counter = counter(
  'coredns_forward_max_concurrent_rejects_total',
  'Counter of the number of queries rejected because the concurrent queries were at maximum.',
);

/** `coredns_proxy_request_duration_seconds{proxy_name, to, rcode}`. */
export const requestDuration: HistogramVec = vec(
  () => new HistogramVec('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', ['proxy_name', 'to', 'rcode'], TIME_BUCKETS),
);

/** `coredns_proxy_healthcheck_failures_total{proxy_name, to}`. */
export const healthcheckFailureCount: CounterVec = vec(
  () => new CounterVec('coredns_proxy_healthcheck_failures_total', 'Counter of the number of failed healthchecks.', ['proxy_name', 'to']),
);

/** `coredns_proxy_conn_cache_hits_total{proxy_name, to, proto}`. */
export const connCacheHitsCount: CounterVec = vec(
  () => new CounterVec('coredns_proxy_conn_cache_hits_total', 'Counter of connection cache hits per upstream and protocol.', ['proxy_name', 'to', 'proto']),
);

/** `coredns_proxy_conn_cache_misses_total{proxy_name, to, proto}`. */
export const connCacheMissesCount: CounterVec = vec(
  () => new CounterVec('coredns_proxy_conn_cache_misses_total', 'Counter of connection cache misses per upstream and protocol.', ['proxy_name', 'to', 'proto']),
);
