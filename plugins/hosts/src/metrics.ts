/**
 * hosts metrics, with CoreDNS's names and help strings, created once per
 * process on the shared registry.
 */
import { GaugeVec, metricOnce } from '@tsdns/core';

/** `coredns_hosts_entries{hostsfile}`: entries of the file plus the inline ones, set when the file is (re)read. */
export const hostsEntries: GaugeVec = metricOnce(
  'coredns_hosts_entries',
  () =>
    new GaugeVec({
      name: 'coredns_hosts_entries',
      help: 'The combined number of entries in hosts and Corefile.',
      labelNames: ['hostsfile'],
    }),
);

/** `coredns_hosts_reload_timestamp_seconds`: modification time of the file last read. */
export const hostsReloadTime: GaugeVec = metricOnce(
  'coredns_hosts_reload_timestamp_seconds',
  () =>
    new GaugeVec({
      name: 'coredns_hosts_reload_timestamp_seconds',
      help: 'The timestamp of the last reload of hosts file.',
    }),
);
