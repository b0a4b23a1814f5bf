/**
 * @tsdns/plugin-hosts: CoreDNS's hosts plugin. Serves A, AAAA and PTR
 * records from an /etc/hosts style file and entries inlined in the Corefile.
 *
 *     hosts [FILE [ZONES...]] {
 *         [INLINE]
 *         ttl SECONDS
 *         no_reverse
 *         reload DURATION
 *         fallthrough [ZONES...]
 *         fallthrough_unsupported
 *     }
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { Hosts, Hostsfile, type HostsOptions } from './hosts.js';
export { HostsMap, parseHosts, isWildcardName, wildcardOf, type ParseHostsOptions } from './hostsfile.js';
export { parseGoIP, ipString, isV4, addressFromReverse } from '@tsdns/core';
export { hostsEntries, hostsReloadTime } from './metrics.js';
export { parseHostsDirective, setup } from './setup.js';

const plugin: PluginDefinition = { name: 'hosts', setup };

export default plugin;
