/**
 * The metrics registry shared by the server and every plugin, with CoreDNS's
 * core metric names, labels, help strings and buckets, so existing dashboards
 * and alerts keep working. Plugins register their own metrics on `registry`.
 *
 * The six per-query metrics (`coredns_dns_requests_total`, `..._duration_
 * seconds`, `..._request_size_bytes`, `..._do_requests_total`,
 * `..._response_size_bytes`, `..._responses_total`) are `CounterVec` /
 * `HistogramVec`: prom-client compatible metric families whose label children
 * can be kept by the caller, so that recording a query costs a few additions
 * and no label hashing. `ZoneMetrics` bundles the children of one
 * (server, zone, view) and is what `report()` and the prometheus plugin use.
 */
import { createRequire } from 'node:module';
import type * as client from 'prom-client';
import { getOpt } from './msg.js';
import type { Request } from './request.js';
import { DNSSEC_OK, rcodeToString, typeCode, typeToString } from './wire/constants.js';

// ---------------------------------------------------------------------------
// prom-client, loaded on first use
//
// Loading prom-client (and the tracing API it pulls in) takes tens of
// milliseconds at start. Core's own metrics do not need it to count, only to
// be exposed, so it is loaded when something really uses it: a metric of its
// own kind, or the registry for more than registering and looking up metrics
// (serving /metrics, collecting the process metrics).

type PromClient = typeof client;
let clientModule: PromClient | undefined;

function loadClient(): PromClient {
  return (clientModule ??= createRequire(import.meta.url)('prom-client') as PromClient);
}

/** True once prom-client was loaded. */
export function promClientLoaded(): boolean {
  return clientModule !== undefined;
}

/**
 * prom-client's module, loaded on first property access
 * (`new promClient.Gauge(...)`, `promClient.collectDefaultMetrics(...)`); its
 * types as `promClient.Registry`, `promClient.Gauge<L>`, ...
 */
export const promClient: PromClient = new Proxy({} as PromClient, {
  get: (_t, p) => Reflect.get(loadClient(), p) as unknown,
  has: (_t, p) => Reflect.has(loadClient(), p),
  ownKeys: () => Reflect.ownKeys(loadClient()),
  getOwnPropertyDescriptor: (_t, p) => {
    const d = Reflect.getOwnPropertyDescriptor(loadClient(), p);
    return d === undefined ? undefined : { ...d, configurable: true };
  },
});

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace promClient {
  type Registry<T extends client.RegistryContentType = client.PrometheusContentType> = client.Registry<T>;
  type AggregatorRegistry<T extends client.RegistryContentType = client.PrometheusContentType> = client.AggregatorRegistry<T>;
  type Metric<T extends string = string> = client.Metric<T>;
  type MetricObject = client.MetricObject;
  type MetricObjectWithValues<T extends client.MetricValue<string>> = client.MetricObjectWithValues<T>;
  type MetricValue<T extends string> = client.MetricValue<T>;
  type MetricType = client.MetricType;
  type Aggregator = client.Aggregator;
  type LabelValues<T extends string> = client.LabelValues<T>;
  type Counter<T extends string = string> = client.Counter<T>;
  type Gauge<T extends string = string> = client.Gauge<T>;
  type Histogram<T extends string = string> = client.Histogram<T>;
  type Summary<T extends string = string> = client.Summary<T>;
  type CounterConfiguration<T extends string> = client.CounterConfiguration<T>;
  type GaugeConfiguration<T extends string> = client.GaugeConfiguration<T>;
  type HistogramConfiguration<T extends string> = client.HistogramConfiguration<T>;
  type SummaryConfiguration<T extends string> = client.SummaryConfiguration<T>;
  type RegistryContentType = client.RegistryContentType;
  type PrometheusContentType = client.PrometheusContentType;
  type OpenMetricsContentType = client.OpenMetricsContentType;
  type DefaultMetricsCollectorConfiguration<T extends client.RegistryContentType> = client.DefaultMetricsCollectorConfiguration<T>;
}

/** Metrics registered on the shared registry before prom-client was loaded, in registration order. */
const pending = new Map<string, client.Metric>();
let sharedReal: client.Registry | undefined;

/** The shared registry as a prom-client Registry (loading prom-client), with every metric registered so far. */
function realRegistry(): client.Registry {
  if (sharedReal === undefined) {
    const r = new (loadClient().Registry)();
    for (const m of pending.values()) r.registerMetric(m);
    pending.clear();
    sharedReal = r;
    for (const fn of readyHooks.splice(0)) fn();
  }
  return sharedReal;
}

const readyHooks: (() => void)[] = [];

/**
 * Runs `fn` when the shared registry becomes a prom-client Registry (the first
 * scrape or gather, or `preloadRegistry`), or now when it already is one: for
 * what needs prom-client itself, such as its default process metrics.
 */
export function onRegistryReady(fn: () => void): void {
  if (sharedReal !== undefined) fn();
  else readyHooks.push(fn);
}

/** Loads prom-client and makes the shared registry a prom-client Registry now. */
export function preloadRegistry(): void {
  realRegistry();
}

/** What the shared registry does without prom-client: prom-client's own semantics for these three. */
const early = {
  registerMetric(metric: client.Metric): void {
    if (sharedReal !== undefined) return sharedReal.registerMetric(metric);
    // every metric has its name as a property (prom-client's typings leave it out)
    const name = (metric as unknown as { name: string }).name;
    const cur = pending.get(name);
    if (cur !== undefined && cur !== metric) throw new Error(`A metric with the name ${name} has already been registered.`);
    pending.set(name, metric);
  },
  getSingleMetric(name: string): client.Metric | undefined {
    return sharedReal !== undefined ? sharedReal.getSingleMetric(name) : pending.get(name);
  },
  removeSingleMetric(name: string): void {
    if (sharedReal !== undefined) sharedReal.removeSingleMetric(name);
    else pending.delete(name);
  },
};
const earlyNames = new Set<string | symbol>(Object.keys(early));
const boundMethods = new Map<unknown, unknown>();

/**
 * The process-wide registry; the `prometheus` plugin serves it. A prom-client
 * Registry in every respect; prom-client itself is loaded the first time it
 * is used for anything but registering, looking up or removing a metric.
 */
export const registry: client.Registry = new Proxy({} as client.Registry, {
  get(_t, p) {
    if (earlyNames.has(p)) return early[p as keyof typeof early];
    const r = realRegistry();
    const v = Reflect.get(r, p, r) as unknown;
    if (typeof v !== 'function') return v;
    let b = boundMethods.get(v);
    if (b === undefined) boundMethods.set(v, (b = (v as (...a: unknown[]) => unknown).bind(r)));
    return b;
  },
  set: (_t, p, v) => Reflect.set(realRegistry(), p, v),
  has: (_t, p) => earlyNames.has(p) || Reflect.has(realRegistry(), p),
  getPrototypeOf: () => Reflect.getPrototypeOf(realRegistry()),
});

/** 0.00025 × 2ⁿ, 16 buckets (CoreDNS's `plugin.TimeBuckets`). */
export const TIME_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
/** 0.00025 × 10ⁿ, 5 buckets (CoreDNS's `plugin.SlimTimeBuckets`). */
export const SLIM_TIME_BUCKETS: readonly number[] = Array.from({ length: 5 }, (_, i) => Number((0.00025 * 10 ** i).toPrecision(2)));
/** Request/response size buckets. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

export const VERSION = '1.14.7';

// ---------------------------------------------------------------------------
// Metric families with cacheable children

/** One exported sample, as prom-client's `get()` returns them. */
export interface MetricSample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What `get()` of a metric family returns (prom-client's `MetricObjectWithValues`). */
export interface MetricFamilySnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  values: MetricSample[];
  aggregator: 'sum';
}

export interface VecOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Registries to register with (default: the shared `registry`). */
  registers?: client.Registry[];
}

/**
 * Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which client_golang uses for
 * `le` label values (`0.00025`, `8.192`, `64000`, `1e+06`).
 */
export function goFloatLabel(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expStr] = f.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  // shortest 'g': exponent form below 1e-4 and from 1e6 on (Go's eprec 6)
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return String(f);
}

/**
 * The metric registered on the shared registry under `name`, or a new one from
 * `make()` (which registers it): a plugin's metrics exist once per process,
 * however often its module is loaded (promauto's role in CoreDNS).
 */
export function metricOnce<M>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

function labelKey(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : values.join('\u0000');
}

function registerAll(metric: object, name: string, registers: client.Registry[] | undefined): void {
  for (const r of registers ?? [registry]) {
    if (r.getSingleMetric(name) !== undefined) throw new Error(`A metric with the name ${name} has already been registered.`);
    // prom-client's registry only needs name, get() and reset(); its typings list its own classes
    r.registerMetric(metric as unknown as client.Metric);
  }
}

abstract class Vec<C extends Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum' as const;
  /** Children in creation order, by their joined label values. */
  protected readonly children = new Map<string, C>();
  /** Children forgotten by reset()/remove(), kept so that a label set always has one child object. */
  private readonly detached = new Map<string, C>();

  constructor(opts: VecOptions) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames ?? [];
  }

  protected abstract create(values: readonly string[], key: string): C;

  /**
   * The child of a label set (created on first use). Keep it: incrementing a
   * kept child does no lookup at all.
   */
  child(values: readonly string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new Error(`Invalid number of arguments (${values.length}): "${values.join(', ')}" for label names (${this.labelNames.length}): "${this.labelNames.join(', ')}".`);
    }
    const key = labelKey(values);
    let c = this.children.get(key);
    if (c === undefined) {
      c = this.detached.get(key);
      if (c !== undefined) c.revive();
      else this.children.set(key, (c = this.create(values.map(String), key)));
    }
    return c;
  }

  /** prom-client style: `vec.labels('dns://:53', '.', '').inc()`. */
  labels(...values: string[]): C {
    return this.child(values);
  }

  /** Forgets a label set (it disappears from the exposition until used again). */
  remove(...values: string[]): void {
    const key = labelKey(values);
    const c = this.children.get(key);
    if (c === undefined) return;
    this.children.delete(key);
    this.detached.set(key, c);
    c.detach();
  }

  /** Forgets every label set (CoreDNS's `Vec.Reset()`); kept children reappear when used again. */
  reset(): void {
    for (const c of this.children.values()) {
      this.detached.set(c.key, c);
      c.detach();
    }
    this.children.clear();
  }

  /** @internal A detached child is used again: it is put back (at the end), zeroed. */
  reattach(c: C): void {
    this.detached.delete(c.key);
    this.children.set(c.key, c);
  }

  protected labelsOf(c: C): Record<string, string> {
    const o: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) o[this.labelNames[i]!] = c.labelValues[i]!;
    return o;
  }
}

abstract class Child {
  readonly labelValues: readonly string[];
  readonly key: string;
  /** False once the family forgot this child (reset/remove); the next update re-adds it. */
  protected attached = true;
  constructor(labelValues: readonly string[], key: string) {
    this.labelValues = labelValues;
    this.key = key;
  }
  /** @internal */
  detach(): void {
    this.attached = false;
  }
  /** @internal Back in the family with zeroed values (after a reset or remove). */
  abstract revive(): void;
}

/** One label set of a CounterVec. */
export class CounterChild extends Child {
  private readonly vec: CounterVec;
  value = 0;
  constructor(vec: CounterVec, labelValues: readonly string[], key: string) {
    super(labelValues, key);
    this.vec = vec;
  }
  /** Adds `n` (default 1; must not be negative). */
  inc(n?: number): void {
    if (!this.attached) this.revive();
    if (n === undefined) {
      this.value++;
      return;
    }
    if (!(n >= 0) || !Number.isFinite(n)) throw new Error('It is not possible to decrease a counter');
    this.value += n;
  }
  /** @internal */
  revive(): void {
    if (this.attached) return;
    this.attached = true;
    this.value = 0;
    this.vec.reattach(this);
  }
}

/** A counter family (CoreDNS's CounterVec). Register with a prom-client Registry. */
export class CounterVec extends Vec<CounterChild> {
  readonly type = 'counter' as const;
  constructor(opts: VecOptions) {
    super(opts);
    registerAll(this, this.name, opts.registers);
    if (this.labelNames.length === 0) this.child([]);
  }
  protected create(values: readonly string[], key: string): CounterChild {
    return new CounterChild(this, values, key);
  }
  /** Increments the label-less series (only for families without labels). */
  inc(n?: number): void {
    this.child([]).inc(n);
  }
  get(): Promise<MetricFamilySnapshot> {
    const values: MetricSample[] = [];
    for (const c of this.children.values()) values.push({ value: c.value, labels: this.labelsOf(c) });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

/** One label set of a HistogramVec. */
export class HistogramChild extends Child {
  private readonly vec: HistogramVec;
  private readonly bounds: readonly number[];
  /** Per-bucket (not cumulative) counts; the last slot is the +Inf overflow. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(vec: HistogramVec, labelValues: readonly string[], key: string, bounds: readonly number[]) {
    super(labelValues, key);
    this.vec = vec;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${v}`);
    if (!this.attached) this.revive();
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
  /** @internal */
  revive(): void {
    if (this.attached) return;
    this.attached = true;
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.vec.reattach(this);
  }
}

/** A histogram family with fixed buckets (CoreDNS's HistogramVec). */
export class HistogramVec extends Vec<HistogramChild> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly leLabels: readonly string[];
  constructor(opts: VecOptions & { buckets: readonly number[] }) {
    super(opts);
    const b = [...opts.buckets].sort((x, y) => x - y);
    this.buckets = b;
    this.leLabels = [...b.map(goFloatLabel), '+Inf'];
    registerAll(this, this.name, opts.registers);
    if (this.labelNames.length === 0) this.child([]);
  }
  protected create(values: readonly string[], key: string): HistogramChild {
    return new HistogramChild(this, values, key, this.buckets);
  }
  /** Observes on the label-less series (only for families without labels). */
  observe(v: number): void {
    this.child([]).observe(v);
  }
  get(): Promise<MetricFamilySnapshot> {
    const values: MetricSample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.children.values()) {
      const labels = this.labelsOf(c);
      let acc = 0;
      for (let i = 0; i < this.leLabels.length; i++) {
        acc += c.counts[i]!;
        values.push({ value: acc, labels: { ...labels, le: this.leLabels[i]! }, metricName: bucket });
      }
      values.push({ value: c.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: c.count, labels, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

/** One label set of a GaugeVec. */
export class GaugeChild extends Child {
  private readonly vec: GaugeVec;
  value = 0;
  constructor(vec: GaugeVec, labelValues: readonly string[], key: string) {
    super(labelValues, key);
    this.vec = vec;
  }
  set(v: number): void {
    if (typeof v !== 'number') throw new TypeError(`Value is not a valid number: ${String(v)}`);
    if (!this.attached) this.revive();
    this.value = v;
  }
  inc(n = 1): void {
    this.set(this.value + n);
  }
  dec(n = 1): void {
    this.set(this.value - n);
  }
  /** @internal */
  revive(): void {
    if (this.attached) return;
    this.attached = true;
    this.value = 0;
    this.vec.reattach(this);
  }
}

/** A gauge family (CoreDNS's GaugeVec). */
export class GaugeVec extends Vec<GaugeChild> {
  readonly type = 'gauge' as const;
  constructor(opts: VecOptions) {
    super(opts);
    registerAll(this, this.name, opts.registers);
    if (this.labelNames.length === 0) this.child([]);
  }
  protected create(values: readonly string[], key: string): GaugeChild {
    return new GaugeChild(this, values, key);
  }
  /** Sets the label-less series (only for families without labels). */
  set(v: number): void {
    this.child([]).set(v);
  }
  get(): Promise<MetricFamilySnapshot> {
    const values: MetricSample[] = [];
    for (const c of this.children.values()) values.push({ value: c.value, labels: this.labelsOf(c) });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}

// ---------------------------------------------------------------------------
// Core metrics (namespace coredns)

export const buildInfo = new GaugeVec({
  name: 'coredns_build_info',
  help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
  labelNames: ['version', 'revision', 'goversion'],
});

export const panicsTotal = new CounterVec({
  name: 'coredns_panics_total',
  help: 'A metrics that counts the number of panics.',
});

export const requestCount = new CounterVec({
  name: 'coredns_dns_requests_total',
  help: 'Counter of DNS requests made per zone, protocol and family.',
  labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
});

export const requestDuration = new HistogramVec({
  name: 'coredns_dns_request_duration_seconds',
  help: 'Histogram of the time (in seconds) each request took per zone.',
  labelNames: ['server', 'zone', 'view'],
  buckets: TIME_BUCKETS,
});

export const requestSize = new HistogramVec({
  name: 'coredns_dns_request_size_bytes',
  help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.',
  labelNames: ['server', 'zone', 'view', 'proto'],
  buckets: SIZE_BUCKETS,
});

export const requestDo = new CounterVec({
  name: 'coredns_dns_do_requests_total',
  help: 'Counter of DNS requests with DO bit set per zone.',
  labelNames: ['server', 'zone', 'view'],
});

export const responseSize = new HistogramVec({
  name: 'coredns_dns_response_size_bytes',
  help: 'Size of the returned response in bytes.',
  labelNames: ['server', 'zone', 'view', 'proto'],
  buckets: SIZE_BUCKETS,
});

export const responseRcode = new CounterVec({
  name: 'coredns_dns_responses_total',
  help: 'Counter of response status codes.',
  labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
});

export const pluginEnabled = new GaugeVec({
  name: 'coredns_plugin_enabled',
  help: 'A metric that indicates whether a plugin is enabled on per server and zone basis.',
  labelNames: ['server', 'zone', 'view', 'name'],
});

export const httpsResponsesCount = new CounterVec({
  name: 'coredns_dns_https_responses_total',
  help: 'Counter of DoH responses per server and http status code.',
  labelNames: ['server', 'status'],
});

/** Zone label for queries the server answered without a plugin chain. */
export const DROPPED = 'dropped';

/** The `type` label values CoreDNS keeps (vars.monitorType); everything else is `other`. */
const MONITORED_TYPES: readonly string[] = [
  'A', 'AAAA', 'CNAME', 'DNSKEY', 'DS', 'MX', 'NSEC3', 'NSEC', 'NS', 'PTR', 'RRSIG', 'SOA', 'SRV', 'TXT', 'HTTPS', 'SVCB', 'IXFR', 'AXFR', 'ANY',
];
const TYPE_LABELS: readonly string[] = [...MONITORED_TYPES, 'other'];
const OTHER_TYPE = MONITORED_TYPES.length;
const monitoredIndex = new Map<string, number>(MONITORED_TYPES.map((t, i) => [t, i]));

/** The `type` label: the mnemonic for commonly monitored types, else `other`. */
export function qtypeLabel(qtype: number): string {
  return TYPE_LABELS[monitoredIndex.get(typeToString(qtype)) ?? OTHER_TYPE]!;
}

/** Question type as written in a Msg (`A`, `UNKNOWN_65280`) -> index in TYPE_LABELS. */
const typeIndexMemo = new Map<string, number>();
function typeIndex(qtype: string): number {
  let i = typeIndexMemo.get(qtype);
  if (i === undefined) {
    const code = typeCode(qtype);
    i = code === undefined ? OTHER_TYPE : (monitoredIndex.get(typeToString(code)) ?? OTHER_TYPE);
    if (typeIndexMemo.size < 1024) typeIndexMemo.set(qtype, i);
  }
  return i;
}

const NTYPES = TYPE_LABELS.length;

/**
 * The per-query metric children of one (server, zone, view), created lazily
 * (a labelled series appears only once it was observed, as in CoreDNS).
 * `record` is CoreDNS's `vars.Report` without any label hashing; get one with
 * `zoneMetrics()` and keep it.
 */
export class ZoneMetrics {
  readonly server: string;
  readonly zone: string;
  readonly view: string;
  private doCount: CounterChild | undefined;
  private duration: HistogramChild | undefined;
  private readonly reqSize: (HistogramChild | undefined)[] = [undefined, undefined];
  private readonly respSize: (HistogramChild | undefined)[] = [undefined, undefined];
  /** By ((proto * 2) + family-1) * NTYPES + type index. */
  private readonly requests: (CounterChild | undefined)[] = new Array<CounterChild | undefined>(4 * NTYPES).fill(undefined);
  /** By plugin label, then rcode. */
  private readonly responses = new Map<string, (CounterChild | undefined)[]>();
  /** By plugin label, then rcode label (for `recordLabel`). */
  private readonly responsesByLabel = new Map<string, Map<string, CounterChild>>();
  private lastPlugin = '';
  private lastResponses: (CounterChild | undefined)[] = [];

  constructor(server: string, zone: string, view: string) {
    this.server = server;
    this.zone = zone;
    this.view = view;
    this.responses.set('', this.lastResponses);
  }

  /**
   * Records one finished request: `qtype` is the question's type as in the
   * Msg, `rcode` the numeric response code, `seconds` the time it took.
   */
  record(
    proto: 'udp' | 'tcp',
    family: number,
    qtype: string,
    dnssecOk: boolean,
    rcode: number,
    plugin: string,
    responseBytes: number,
    requestBytes: number,
    seconds: number,
  ): void {
    this.common(proto, family, qtype, dnssecOk, responseBytes, requestBytes, seconds);
    let byRcode = this.lastResponses;
    if (plugin !== this.lastPlugin) {
      byRcode = this.responses.get(plugin) ?? [];
      if (!this.responses.has(plugin)) this.responses.set(plugin, byRcode);
      this.lastPlugin = plugin;
      this.lastResponses = byRcode;
    }
    let c = byRcode[rcode];
    if (c === undefined) c = byRcode[rcode] = responseRcode.child([this.server, this.zone, this.view, rcodeToString(rcode), plugin]);
    c.inc();
  }

  /** `record` with the rcode label given as text (CoreDNS's `vars.Report` signature). */
  recordLabel(proto: 'udp' | 'tcp', family: number, qtype: string, dnssecOk: boolean, rcode: string, plugin: string, responseBytes: number, requestBytes: number, seconds: number): void {
    this.common(proto, family, qtype, dnssecOk, responseBytes, requestBytes, seconds);
    let byLabel = this.responsesByLabel.get(plugin);
    if (byLabel === undefined) this.responsesByLabel.set(plugin, (byLabel = new Map()));
    let c = byLabel.get(rcode);
    if (c === undefined) byLabel.set(rcode, (c = responseRcode.child([this.server, this.zone, this.view, rcode, plugin])));
    c.inc();
  }

  private common(proto: 'udp' | 'tcp', family: number, qtype: string, dnssecOk: boolean, responseBytes: number, requestBytes: number, seconds: number): void {
    const p = proto === 'udp' ? 0 : 1;
    if (dnssecOk) (this.doCount ??= requestDo.child([this.server, this.zone, this.view])).inc();
    const f = family === 2 ? 1 : 0;
    const t = typeIndex(qtype);
    const ri = (p * 2 + f) * NTYPES + t;
    let rc = this.requests[ri];
    if (rc === undefined) rc = this.requests[ri] = requestCount.child([this.server, this.zone, this.view, proto, f === 1 ? '2' : '1', TYPE_LABELS[t]!]);
    rc.inc();
    (this.duration ??= requestDuration.child([this.server, this.zone, this.view])).observe(seconds);
    (this.respSize[p] ??= responseSize.child([this.server, this.zone, this.view, proto])).observe(responseBytes);
    (this.reqSize[p] ??= requestSize.child([this.server, this.zone, this.view, proto])).observe(requestBytes);
  }
}

const zoneMetricsCache = new Map<string, Map<string, Map<string, ZoneMetrics>>>();

/** The (cached) ZoneMetrics of a server, zone and view. */
export function zoneMetrics(server: string, zone: string, view: string): ZoneMetrics {
  let byZone = zoneMetricsCache.get(server);
  if (byZone === undefined) zoneMetricsCache.set(server, (byZone = new Map()));
  let byView = byZone.get(zone);
  if (byView === undefined) byZone.set(zone, (byView = new Map()));
  let zm = byView.get(view);
  if (zm === undefined) byView.set(view, (zm = new ZoneMetrics(server, zone, view)));
  return zm;
}

/**
 * Records one finished request (CoreDNS's `vars.Report`): requests, DO,
 * duration since `start` (performance.now()), response and request sizes and
 * the response code.
 */
export function report(server: string, req: Request, zone: string, view: string, rcode: string, plugin: string, size: number, start: number): void {
  const q = req.req.questions[0];
  const opt = getOpt(req.req);
  zoneMetrics(server, zone, view).recordLabel(
    req.proto(),
    req.family(),
    q ? q.type : 'TYPE0',
    opt !== undefined && (opt.flags & DNSSEC_OK) !== 0,
    rcode,
    plugin,
    size,
    req.len(),
    (performance.now() - start) / 1000,
  );
}
