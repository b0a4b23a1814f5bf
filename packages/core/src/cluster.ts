/**
 * What the runtime needs to know when `tsdns -workers N` serves from several
 * processes (Node's cluster): the executable installs these hooks in each
 * worker; in a single process none is set and everything behaves as before.
 *
 * - HTTP listeners of plugins (prometheus, health, ready, ...) are not bound
 *   by the workers: `listenHttp` hands them to the hook, which serves them
 *   on a private loopback port and has the primary process open the real
 *   address once, in front of every worker.
 * - /metrics shows the sum over every worker: `clusterRegistry()` gathers
 *   the workers' registries (through the primary, which adds its own
 *   `process_*` and `nodejs_*` figures) and aggregates them.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promClient as client, registry } from './metrics.js';

/** Takes over `listenHttp(server, addr)`: resolves with the address clients reach, or throws Go's listen error. */
export type HttpListenHook = (server: HttpServer, addr: string) => Promise<AddressInfo>;

let httpHook: HttpListenHook | undefined;

/** Installs (or removes) the HTTP listen hook (the executable does, in each worker). */
export function setHttpListenHook(h: HttpListenHook | undefined): void {
  httpHook = h;
}

/** The HTTP listen hook, if any. */
export function httpListenHook(): HttpListenHook | undefined {
  return httpHook;
}

/** One metric family as `Registry.getMetricsAsJSON()` returns it (plain data, as sent between processes). */
export interface MetricFamilyJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

/** Returns every process's `getMetricsAsJSON()` (one array per worker). */
export type MetricsGatherer = () => Promise<MetricFamilyJson[][]>;

let gatherer: MetricsGatherer | undefined;

/** Installs (or removes) the function that collects the other workers' metrics. */
export function setMetricsGatherer(g: MetricsGatherer | undefined): void {
  gatherer = g;
}

/**
 * The registry `/metrics` renders: the shared registry in a single process;
 * under `-workers N` a registry holding the sum over every worker.
 */
export async function clusterRegistry(): Promise<client.Registry> {
  if (gatherer === undefined) return registry;
  return aggregateMetrics(await gatherer());
}

/**
 * Gauges of tsdns's own plugins that are not summed: every worker reports
 * the same value (a constant, the entries of the same hosts file), or the
 * value means "in any worker" / "in every worker".
 */
const GAUGE_AGGREGATORS: ReadonlyMap<string, string> = new Map([
  ['coredns_build_info', 'max'],
  ['coredns_plugin_enabled', 'max'],
  // every worker reads the same hosts file
  ['coredns_hosts_entries', 'max'],
  ['coredns_hosts_reload_timestamp_seconds', 'max'],
  // healthy only when every worker finds the cluster healthy
  ['coredns_gathersrv_cluster_healthy', 'min'],
  // the oldest process: the primary, which runs as long as tsdns does
  ['process_start_time_seconds', 'min'],
]);

/**
 * How a family is combined across processes. Counters and histograms add
 * up. Gauges add up too (cache entries, connections, memory, CPU and file
 * descriptors of the whole server; `process_open_fds / process_max_fds`
 * stays the fraction in use) except: the gauges listed above, info-style
 * gauges (`*_info`: the same labels with value 1 everywhere, kept once),
 * and gauges whose metric chose another aggregator than prom-client's
 * default `sum` (its event-loop lag figures are averaged; a third-party
 * plugin can set `aggregator: 'max'` on its own gauge the same way).
 */
export function aggregatorFor(m: Pick<MetricFamilyJson, 'name' | 'type' | 'aggregator'>): string {
  const fixed = GAUGE_AGGREGATORS.get(m.name);
  if (fixed !== undefined) return fixed;
  if (m.type === 'gauge' && m.name.endsWith('_info')) return 'max';
  return m.aggregator ?? 'sum';
}

/** Aggregates per-process metric snapshots into one registry (prom-client's AggregatorRegistry.aggregate). */
export function aggregateMetrics(perProcess: readonly (readonly MetricFamilyJson[])[]): client.Registry {
  const fixed = perProcess.map((families) => families.map((m) => ({ ...m, aggregator: aggregatorFor(m) })));
  return client.AggregatorRegistry.aggregate(fixed);
}
