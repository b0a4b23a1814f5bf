/**
 * @tsdns/plugin-gathersrv: the gathersrv external plugin. Gathers SRV, A,
 * AAAA and TXT answers from several cluster domains (through the rest of the
 * chain, typically one `forward` per cluster) and serves them merged behind
 * one distributed domain, with host names masqueraded as
 * PREFIX + name + distributed domain.
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export {
  GatherSrv,
  ClusterHealth,
  DEFAULT_MAX_FAILS,
  DEFAULT_PROBE_TIMEOUT_MS,
  EDE_NETWORK_ERROR,
  EDE_TEXT_TIMEOUT,
  EDE_TEXT_FAILED,
  type Cluster,
  type GatherSrvOptions,
  type SubRequest,
} from './gathersrv.js';
export { parseGathersrv, parseDomain, setup } from './setup.js';
export { relativeTo, divideDomain, prefixedHost, joinName } from './names.js';
export {
  requestCount,
  subRequestCount,
  subRequestFailures,
  subRequestSkipped,
  clusterHealthy,
  QUALIFIED_TYPES,
} from './metrics.js';

const plugin: PluginDefinition = { name: 'gathersrv', setup };

export default plugin;
