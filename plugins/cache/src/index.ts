/**
 * @tsdns/plugin-cache: CoreDNS's cache plugin. A success and a denial cache
 * (256 shards each, random eviction), TTL capping, prefetch of popular
 * entries, serve_stale (immediate and verify), and hits answered by copying
 * stored wire bytes and patching ID, flags and TTLs.
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { Cache, DEFAULT_CAPACITY, SUCCESS, DENIAL } from './cache.js';
export { Item } from './item.js';
export { ShardedCache, SHARDS } from './shards.js';
export { CacheWriter, VerifyStaleWriter, computeTTL, type CacheQuestion } from './writer.js';
export { cacheKey, cacheKey64 } from './hash.js';
export { answersQuestion, isNODATA, cacheResponseType, cacheable, minimalTTL, usableAnswer, hasSOA } from './classify.js';
export { CacheMetrics, GaugeVec, GaugeChild } from './metrics.js';
export { parseCache, setup, atoi } from './setup.js';

const plugin: PluginDefinition = { name: 'cache', setup };

export default plugin;
