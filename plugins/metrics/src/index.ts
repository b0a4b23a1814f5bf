/**
 * The `prometheus` plugin (CoreDNS's `metrics`): records every query of the
 * server blocks that use it and serves the metrics registry on /metrics.
 *
 *     prometheus [ADDRESS] {
 *         runtime_metrics
 *         tls WEBCONFIGFILE
 *     }
 */
import { ConfigError, joinHostPort, onRegistryReady, pluginEnabled, preloadRegistry, promClient, registry, warmUpLater, type Controller, type PluginDefinition } from '@tsdns/core';
import { Metrics } from './metrics.js';
import { ensureListener, stopListener } from './http.js';
import { goSplitHostPort as splitHostPort } from '@tsdns/core';

export { Metrics, MetricsRecorder, inZone } from './metrics.js';
export { CONTENT_TYPE, MetricsListener, renderMetrics, ensureListener, stopListener, metricsListener, listenAddr, runningListeners } from './http.js';
export { loadWebConfig, parseYaml, type WebConfig, type YamlValue } from './webconfig.js';
export { goSplitHostPort as splitHostPort } from '@tsdns/core';

/** Where metrics are served when no ADDRESS is given. */
export const DEFAULT_ADDR = 'localhost:9153';

export interface PrometheusConfig {
  addr: string;
  tlsConfigPath: string;
  runtimeMetrics: boolean;
}

/** Reads the block's `prometheus` directive (CoreDNS's `parse`). */
export function parsePrometheus(c: Controller): PrometheusConfig {
  const cfg: PrometheusConfig = { addr: DEFAULT_ADDR, tlsConfigPath: '', runtimeMetrics: false };
  let i = 0;
  while (c.next()) {
    if (i > 0) throw new ConfigError('plugin/prometheus: this plugin can only be used once per Server Block');
    i++;
    const args = c.remainingArgs();
    if (args.length === 1) {
      cfg.addr = args[0]!;
      try {
        splitHostPort(cfg.addr);
      } catch (e) {
        throw new ConfigError(`plugin/prometheus: ${(e as Error).message}`);
      }
    } else if (args.length > 1) {
      throw c.argErr();
    }
    while (c.nextBlock()) {
      switch (c.val()) {
        case 'runtime_metrics':
          if (c.remainingArgs().length !== 0) throw c.argErr();
          cfg.runtimeMetrics = true;
          break;
        case 'tls': {
          if (cfg.tlsConfigPath !== '') throw c.err('tls block already specified');
          const a = c.remainingArgs();
          if (a.length !== 1) throw c.argErr();
          cfg.tlsConfigPath = a[0]!;
          break;
        }
        default:
          throw c.err(`unknown option: ${c.val()}`);
      }
    }
  }
  return cfg;
}

let processMetrics = false;

/**
 * Registers prom-client's default metrics (`process_*`, `nodejs_*`) on the
 * shared registry, once per process.
 */
export function registerProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  if (registry.getSingleMetric('process_cpu_user_seconds_total') !== undefined) return;
  promClient.collectDefaultMetrics({ register: registry });
  // gauges whose `_total` suffix `promtool check metrics` rejects; each is the sum of
  // the same family without the suffix (nodejs_active_handles{type} ...)
  for (const n of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(n);
}

/** prom-client default metrics left out so that the exposition passes `promtool check metrics`. */
export const LINT_FAILING_DEFAULTS: readonly string[] = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Sets `coredns_plugin_enabled` for a block (its first key, every listen host). */
function setPluginEnabled(c: Controller): void {
  const conf = c.config;
  const a = conf.addrs[0];
  if (a === undefined) return;
  for (const h of conf.listenHosts) {
    const server = `${a.transport}://${joinHostPort(h, a.port)}`;
    for (const p of conf.handlers) pluginEnabled.labels(server, a.zone, conf.viewName, p.name).set(1);
  }
}

const plugin: PluginDefinition = {
  name: 'prometheus',
  setup(c: Controller): void {
    const cfg = parsePrometheus(c);
    // prom-client's process metrics, registered when prom-client loads: at the first
    // scrape, or a moment after start-up, whichever comes first
    onRegistryReady(registerProcessMetrics);
    c.onStartupComplete(() => warmUpLater(preloadRegistry));
    const m = new Metrics(c.config.zones);

    c.onStartup(() => ensureListener(cfg.addr, cfg.tlsConfigPath));
    c.onRestartFailed(() => ensureListener(cfg.addr, cfg.tlsConfigPath));
    c.onStartup(() => setPluginEnabled(c));
    c.onRestartFailed(() => setPluginEnabled(c));
    c.onRestart(() => stopListener(cfg.addr));
    c.onRestart(() => {
      pluginEnabled.reset();
    });
    c.onFinalShutdown(() => stopListener(cfg.addr));

    c.addPlugin((next) => {
      m.next = next;
      return m;
    });
  },
};

export default plugin;
