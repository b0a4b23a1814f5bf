/**
 * The metrics registry shared by the server and every plugin, with CoreDNS's
 * core metric names, labels, help strings and buckets, so existing dashboards
 * and alerts keep working. Plugins register their own metrics on `registry`.
 */
import client from 'prom-client';
import type { Request } from './request.js';
import { typeToString } from './wire/constants.js';

/** The process-wide registry; the `prometheus` plugin serves it. */
export const registry: client.Registry = new client.Registry();

export { client as promClient };

/** 0.00025 × 2ⁿ, 16 buckets (CoreDNS's `plugin.TimeBuckets`). */
export const TIME_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
/** 0.00025 × 10ⁿ, 5 buckets (CoreDNS's `plugin.SlimTimeBuckets`). */
export const SLIM_TIME_BUCKETS: readonly number[] = Array.from({ length: 5 }, (_, i) => Number((0.00025 * 10 ** i).toPrecision(2)));
/** Request/response size buckets. */
export const SIZE_BUCKETS: readonly number[] = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

export const VERSION = '1.14.7';

export const buildInfo = new client.Gauge({
  name: 'coredns_build_info',
  help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
  labelNames: ['version', 'revision', 'goversion'] as const,
  registers: [registry],
});

export const panicsTotal = new client.Counter({
  name: 'coredns_panics_total',
  help: 'A metrics that counts the number of panics.',
  registers: [registry],
});

export const requestCount = new client.Counter({
  name: 'coredns_dns_requests_total',
  help: 'Counter of DNS requests made per zone, protocol and family.',
  labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'] as const,
  registers: [registry],
});

export const requestDuration = new client.Histogram({
  name: 'coredns_dns_request_duration_seconds',
  help: 'Histogram of the time (in seconds) each request took per zone.',
  labelNames: ['server', 'zone', 'view'] as const,
  buckets: [...TIME_BUCKETS],
  registers: [registry],
});

export const requestSize = new client.Histogram({
  name: 'coredns_dns_request_size_bytes',
  help: 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.',
  labelNames: ['server', 'zone', 'view', 'proto'] as const,
  buckets: [...SIZE_BUCKETS],
  registers: [registry],
});

export const requestDo = new client.Counter({
  name: 'coredns_dns_do_requests_total',
  help: 'Counter of DNS requests with DO bit set per zone.',
  labelNames: ['server', 'zone', 'view'] as const,
  registers: [registry],
});

export const responseSize = new client.Histogram({
  name: 'coredns_dns_response_size_bytes',
  help: 'Size of the returned response in bytes.',
  labelNames: ['server', 'zone', 'view', 'proto'] as const,
  buckets: [...SIZE_BUCKETS],
  registers: [registry],
});

export const responseRcode = new client.Counter({
  name: 'coredns_dns_responses_total',
  help: 'Counter of response status codes.',
  labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'] as const,
  registers: [registry],
});

export const pluginEnabled = new client.Gauge({
  name: 'coredns_plugin_enabled',
  help: 'A metric that indicates whether a plugin is enabled on per server and zone basis.',
  labelNames: ['server', 'zone', 'view', 'name'] as const,
  registers: [registry],
});

export const httpsResponsesCount = new client.Counter({
  name: 'coredns_dns_https_responses_total',
  help: 'Counter of DoH responses per server and http status code.',
  labelNames: ['server', 'status'] as const,
  registers: [registry],
});

/** Zone label for queries the server answered without a plugin chain. */
export const DROPPED = 'dropped';

const monitoredTypes = new Set([
  'A', 'AAAA', 'CNAME', 'DNSKEY', 'DS', 'MX', 'NSEC3', 'NSEC', 'NS', 'PTR', 'RRSIG', 'SOA', 'SRV', 'TXT', 'HTTPS', 'SVCB', 'IXFR', 'AXFR', 'ANY',
]);

/** The `type` label: the mnemonic for commonly monitored types, else `other`. */
export function qtypeLabel(qtype: number): string {
  const s = typeToString(qtype);
  return monitoredTypes.has(s) ? s : 'other';
}

/**
 * Records one finished request (CoreDNS's `vars.Report`): requests, DO,
 * duration since `start` (performance.now()), response and request sizes and
 * the response code.
 */
export function report(server: string, req: Request, zone: string, view: string, rcode: string, plugin: string, size: number, start: number): void {
  const proto = req.proto();
  const fam = req.family() === 2 ? '2' : '1';
  if (req.do()) requestDo.labels(server, zone, view).inc();
  requestCount.labels(server, zone, view, proto, fam, qtypeLabel(req.qtype())).inc();
  requestDuration.labels(server, zone, view).observe((performance.now() - start) / 1000);
  responseSize.labels(server, zone, view, proto).observe(size);
  requestSize.labels(server, zone, view, proto).observe(req.len());
  responseRcode.labels(server, zone, view, rcode, plugin).inc();
}
