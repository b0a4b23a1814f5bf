/**
 * @tsdns/plugin-loadbalance: CoreDNS's loadbalance plugin. Randomizes the
 * order of A, AAAA and MX records (round_robin), or moves one address chosen
 * by weight to the top (weighted), and optionally puts addresses from
 * preferred subnets first.
 *
 *     loadbalance [round_robin | weighted WEIGHTFILE { reload DURATION }] {
 *         prefer CIDR...
 *     }
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { LoadBalance, LoadBalanceWriter, type ShuffleFunc } from './loadbalance.js';
export { roundRobin, randomShuffle, shuffleInPlace, reorderRecords, reorderPreferredSubnets, recordIP, random16, type Random16 } from './shuffle.js';
export { WeightedRR, WeightFileOpenError, parseWeights, type WeightItem } from './weighted.js';
export { parseGoIP, parseGoCIDR, netContains, ipEqual, ipString, isV4, type IPNet } from '@tsdns/core';
export { parseLoadBalance, setup, type LoadBalanceConfig } from './setup.js';

const plugin: PluginDefinition = { name: 'loadbalance', setup };

export default plugin;
