/**
 * forward's and the proxy package's metrics, with CoreDNS's names, labels and
 * help strings, on the shared registry, created once per process (like
 * promauto). The labelled ones are core's CounterVec/HistogramVec: the proxy
 * keeps the child of each label set it uses, so the query path does no label
 * hashing.
 */
import { CounterVec, HistogramVec, metricOnce, TIME_BUCKETS } from '@tsdns/core';

export type { CounterChild, HistogramChild } from '@tsdns/core';

/** `coredns_forward_healthcheck_broken_total`: every upstream was down. */
export const healthcheckBrokenCount: CounterVec = metricOnce(
  'coredns_forward_healthcheck_broken_total',
  () =>
    new CounterVec({
      name: 'coredns_forward_healthcheck_broken_total',
      help: 'Counter of the number of complete failures of the healthchecks.',
    }),
);

/** `coredns_forward_max_concurrent_rejects_total`: queries refused by max_concurrent. */
export const maxConcurrentRejectCount: CounterVec = metricOnce(
  'coredns_forward_max_concurrent_rejects_total',
  () =>
    new CounterVec({
      name: 'coredns_forward_max_concurrent_rejects_total',
      help: 'Counter of the number of queries rejected because the concurrent queries were at maximum.',
    }),
);

/** `coredns_proxy_request_duration_seconds{proxy_name, to, rcode}`. */
export const requestDuration: HistogramVec = metricOnce(
  'coredns_proxy_request_duration_seconds',
  () =>
    new HistogramVec({
      name: 'coredns_proxy_request_duration_seconds',
      help: 'Histogram of the time each request took.',
      labelNames: ['proxy_name', 'to', 'rcode'],
      buckets: TIME_BUCKETS,
    }),
);

/** `coredns_proxy_healthcheck_failures_total{proxy_name, to}`. */
export const healthcheckFailureCount: CounterVec = metricOnce(
  'coredns_proxy_healthcheck_failures_total',
  () => new CounterVec({ name: 'coredns_proxy_healthcheck_failures_total', help: 'Counter of the number of failed healthchecks.', labelNames: ['proxy_name', 'to'] }),
);

/** `coredns_proxy_conn_cache_hits_total{proxy_name, to, proto}`. */
export const connCacheHitsCount: CounterVec = metricOnce(
  'coredns_proxy_conn_cache_hits_total',
  () =>
    new CounterVec({ name: 'coredns_proxy_conn_cache_hits_total', help: 'Counter of connection cache hits per upstream and protocol.', labelNames: ['proxy_name', 'to', 'proto'] }),
);

/** `coredns_proxy_conn_cache_misses_total{proxy_name, to, proto}`. */
export const connCacheMissesCount: CounterVec = metricOnce(
  'coredns_proxy_conn_cache_misses_total',
  () =>
    new CounterVec({
      name: 'coredns_proxy_conn_cache_misses_total',
      help: 'Counter of connection cache misses per upstream and protocol.',
      labelNames: ['proxy_name', 'to', 'proto'],
    }),
);
