/**
 * The cache's metrics, with CoreDNS's names, labels and help strings, on the
 * shared registry, created once per process (like promauto). Counters are
 * core's CounterVec; the entries gauge is a small gauge family of the same
 * design. The handler keeps the children of each (server, zones, view) it
 * serves, so the query path does no label hashing.
 */
import { CounterVec, metricOnce, registry, type CounterChild, type MetricFamilySnapshot, type MetricSample } from '@tsdns/core';

/** One label set of a GaugeVec. */
export class GaugeChild {
  readonly labelValues: readonly string[];
  value = 0;
  /** @internal */
  attached = true;
  private readonly vec: GaugeVec;
  constructor(vec: GaugeVec, labelValues: readonly string[]) {
    this.vec = vec;
    this.labelValues = labelValues;
  }
  set(v: number): void {
    if (!this.attached) this.vec.reattach(this);
    this.value = v;
  }
}

/** A gauge family whose children can be kept (CoreDNS's GaugeVec). */
export class GaugeVec {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly type = 'gauge' as const;
  readonly aggregator = 'sum' as const;
  private readonly children = new Map<string, GaugeChild>();
  private readonly all = new Map<string, GaugeChild>();

  constructor(opts: { name: string; help: string; labelNames: readonly string[] }) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    if (registry.getSingleMetric(this.name) !== undefined) throw new Error(`A metric with the name ${this.name} has already been registered.`);
    // the registry only needs name, get() and reset()
    registry.registerMetric(this as unknown as Parameters<typeof registry.registerMetric>[0]);
  }

  /** The child of a label set (it appears in the exposition once set). */
  child(values: readonly string[]): GaugeChild {
    if (values.length !== this.labelNames.length) throw new Error(`Invalid number of arguments (${values.length}) for label names (${this.labelNames.length}).`);
    const key = values.join('\u0000');
    let c = this.all.get(key);
    if (c === undefined) {
      c = new GaugeChild(this, values.slice());
      c.attached = false;
      this.all.set(key, c);
    }
    return c;
  }

  labels(...values: string[]): GaugeChild {
    return this.child(values);
  }

  /** @internal */
  reattach(c: GaugeChild): void {
    c.attached = true;
    this.children.set(c.labelValues.join('\u0000'), c);
  }

  reset(): void {
    for (const c of this.children.values()) {
      c.attached = false;
      c.value = 0;
    }
    this.children.clear();
  }

  get(): Promise<MetricFamilySnapshot> {
    const values: MetricSample[] = [];
    for (const c of this.children.values()) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = c.labelValues[i]!;
      values.push({ value: c.value, labels });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

const counter = (name: string, help: string, labelNames: string[]): CounterVec =>
  metricOnce(name, () => new CounterVec({ name, help, labelNames }));

/** `coredns_cache_entries{server, type, zones, view}` */
export const cacheSize: GaugeVec = metricOnce(
  'coredns_cache_entries',
  () => new GaugeVec({ name: 'coredns_cache_entries', help: 'The number of elements in the cache.', labelNames: ['server', 'type', 'zones', 'view'] }),
);
/** `coredns_cache_requests_total{server, zones, view}` */
export const cacheRequests = counter('coredns_cache_requests_total', 'The count of cache requests.', ['server', 'zones', 'view']);
/** `coredns_cache_hits_total{server, type, zones, view}` */
export const cacheHits = counter('coredns_cache_hits_total', 'The count of cache hits.', ['server', 'type', 'zones', 'view']);
/** `coredns_cache_misses_total{server, zones, view}` */
export const cacheMisses = counter(
  'coredns_cache_misses_total',
  'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.',
  ['server', 'zones', 'view'],
);
/** `coredns_cache_prefetch_total{server, zones, view}` */
export const cachePrefetches = counter('coredns_cache_prefetch_total', 'The number of times the cache has prefetched a cached item.', ['server', 'zones', 'view']);
/** `coredns_cache_drops_total{server, zones, view}` */
export const cacheDrops = counter(
  'coredns_cache_drops_total',
  'The number responses that are not cached, because the reply is malformed.',
  ['server', 'zones', 'view'],
);
/** `coredns_cache_served_stale_total{server, zones, view}` */
export const servedStale = counter('coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', ['server', 'zones', 'view']);
/** `coredns_cache_evictions_total{server, type, zones, view}` */
export const evictions = counter('coredns_cache_evictions_total', 'The count of cache evictions.', ['server', 'type', 'zones', 'view']);

/**
 * The metric children of one (server, zones, view), created on first use so
 * that a label set appears only once it was observed, as in CoreDNS.
 */
export class CacheMetrics {
  readonly server: string;
  private readonly zones: string;
  private readonly view: string;
  private _requests: CounterChild | undefined;
  private _hitsSuccess: CounterChild | undefined;
  private _hitsDenial: CounterChild | undefined;
  private _misses: CounterChild | undefined;
  private _prefetch: CounterChild | undefined;
  private _drops: CounterChild | undefined;
  private _stale: CounterChild | undefined;
  private _evictSuccess: CounterChild | undefined;
  private _evictDenial: CounterChild | undefined;
  private _sizeSuccess: GaugeChild | undefined;
  private _sizeDenial: GaugeChild | undefined;

  constructor(server: string, zones: string, view: string) {
    this.server = server;
    this.zones = zones;
    this.view = view;
  }

  get requests(): CounterChild {
    return (this._requests ??= cacheRequests.child([this.server, this.zones, this.view]));
  }
  get hitsSuccess(): CounterChild {
    return (this._hitsSuccess ??= cacheHits.child([this.server, 'success', this.zones, this.view]));
  }
  get hitsDenial(): CounterChild {
    return (this._hitsDenial ??= cacheHits.child([this.server, 'denial', this.zones, this.view]));
  }
  get misses(): CounterChild {
    return (this._misses ??= cacheMisses.child([this.server, this.zones, this.view]));
  }
  get prefetch(): CounterChild {
    return (this._prefetch ??= cachePrefetches.child([this.server, this.zones, this.view]));
  }
  get drops(): CounterChild {
    return (this._drops ??= cacheDrops.child([this.server, this.zones, this.view]));
  }
  get servedStale(): CounterChild {
    return (this._stale ??= servedStale.child([this.server, this.zones, this.view]));
  }
  get evictSuccess(): CounterChild {
    return (this._evictSuccess ??= evictions.child([this.server, 'success', this.zones, this.view]));
  }
  get evictDenial(): CounterChild {
    return (this._evictDenial ??= evictions.child([this.server, 'denial', this.zones, this.view]));
  }
  get sizeSuccess(): GaugeChild {
    return (this._sizeSuccess ??= cacheSize.child([this.server, 'success', this.zones, this.view]));
  }
  get sizeDenial(): GaugeChild {
    return (this._sizeDenial ??= cacheSize.child([this.server, 'denial', this.zones, this.view]));
  }
}
