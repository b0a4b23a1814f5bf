/**
 * @tsdns/plugin-forward: CoreDNS's forward plugin. Proxies queries to
 * upstream resolvers over UDP, TCP, DNS-over-TLS and DNS-over-HTTPS, reusing
 * connections, with in-band health checks.
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { Forward, DEFAULT_TIMEOUT_MS, type ForwardOptions } from './forward.js';
export { Proxy, Outgoing, type UpstreamProtocol, type ProxySettings } from './proxy.js';
export { ConnPool } from './pool.js';
export { HealthChecker, Probe } from './health.js';
export { DohClient, type DohMethod } from './doh.js';
export { RandomPolicy, RoundRobinPolicy, SequentialPolicy, policyByName, type Policy } from './policy.js';
export { UpstreamError } from './errors.js';
export { parseResolvConf, type ResolvConf } from './hostport.js';
export { parseForward, setup, MAX_UPSTREAMS } from './setup.js';

const plugin: PluginDefinition = { name: 'forward', setup };

export default plugin;
