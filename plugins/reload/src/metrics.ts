/**
 * reload metrics, with CoreDNS's names and help strings, created once per
 * process on the shared registry.
 */
import { promClient, registry } from '@tsdns/core';

function once<M>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** `coredns_reload_failed_total`: Corefile changes whose reload failed. */
export const reloadFailed: promClient.Counter = once(
  'coredns_reload_failed_total',
  () =>
    new promClient.Counter({
      name: 'coredns_reload_failed_total',
      help: 'Counter of the number of failed reload attempts.',
      registers: [registry],
    }),
);

/** `coredns_reload_version_info{hash="sha512", value}`: the hash of the last Corefile change seen. */
export const reloadInfo: promClient.Gauge<'hash' | 'value'> = once(
  'coredns_reload_version_info',
  () =>
    new promClient.Gauge({
      name: 'coredns_reload_version_info',
      help: "A metric with a constant '1' value labeled by hash, and value which type of hash generated.",
      labelNames: ['hash', 'value'] as const,
      registers: [registry],
    }),
);
