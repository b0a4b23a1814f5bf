/**
 * hosts metrics, with CoreDNS's names and help strings, created once per
 * process on the shared registry.
 */
import { promClient, registry } from '@tsdns/core';

function once<M>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** `coredns_hosts_entries{hostsfile}`: entries of the file plus the inline ones, set when the file is (re)read. */
export const hostsEntries: promClient.Gauge<'hostsfile'> = once(
  'coredns_hosts_entries',
  () =>
    new promClient.Gauge({
      name: 'coredns_hosts_entries',
      help: 'The combined number of entries in hosts and Corefile.',
      labelNames: ['hostsfile'] as const,
      registers: [registry],
    }),
);

/** `coredns_hosts_reload_timestamp_seconds`: modification time of the file last read. */
export const hostsReloadTime: promClient.Gauge = once(
  'coredns_hosts_reload_timestamp_seconds',
  () =>
    new promClient.Gauge({
      name: 'coredns_hosts_reload_timestamp_seconds',
      help: 'The timestamp of the last reload of hosts file.',
      registers: [registry],
    }),
);
