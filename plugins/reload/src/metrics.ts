/**
 * reload metrics, with CoreDNS's names and help strings, created once per
 * process on the shared registry.
 */
import { CounterVec, GaugeVec, metricOnce } from '@tsdns/core';

/** `coredns_reload_failed_total`: Corefile changes whose reload failed. */
export const reloadFailed: CounterVec = metricOnce(
  'coredns_reload_failed_total',
  () =>
    new CounterVec({
      name: 'coredns_reload_failed_total',
      help: 'Counter of the number of failed reload attempts.',
    }),
);

/** `coredns_reload_version_info{hash="sha512", value}`: the hash of the last Corefile change seen. */
export const reloadInfo: GaugeVec = metricOnce(
  'coredns_reload_version_info',
  () =>
    new GaugeVec({
      name: 'coredns_reload_version_info',
      help: "A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
      labelNames: ['hash', 'value'],
    }),
);
