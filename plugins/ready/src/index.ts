/**
 * The `ready` plugin: an HTTP readiness endpoint.
 *
 *     ready [ADDRESS] {
 *         monitor until-ready|continuously
 *     }
 */
import { ConfigError, isReadiness, type Controller, type PluginDefinition } from '@tsdns/core';
import { goSplitHostPort as splitHostPort } from '@tsdns/core';
import { ReadySet, activate, ensureReady, stopReady, type MonitorType } from './ready.js';

export { ReadySet, ReadyListener, activate, activeSet, ensureReady, stopReady, readyListener, type MonitorType } from './ready.js';

/** Where /ready is served when no ADDRESS is given. */
export const DEFAULT_ADDR = ':8181';

export interface ReadyConfig {
  addr: string;
  monitor: MonitorType;
}

/** Reads the block's `ready` directive (CoreDNS's `parse`). */
export function parseReady(c: Controller): ReadyConfig {
  const cfg: ReadyConfig = { addr: DEFAULT_ADDR, monitor: 'until-ready' };
  let i = 0;
  while (c.next()) {
    if (i > 0) throw new ConfigError('plugin/ready: this plugin can only be used once per Server Block');
    i++;
    const args = c.remainingArgs();
    if (args.length === 1) {
      cfg.addr = args[0]!;
      try {
        splitHostPort(cfg.addr);
      } catch (e) {
        throw new ConfigError(`plugin/ready: ${(e as Error).message}`);
      }
    } else if (args.length > 1) {
      throw c.argErr();
    }
    while (c.nextBlock()) {
      switch (c.val()) {
        case 'monitor': {
          const a = c.remainingArgs();
          if (a.length !== 1) throw c.argErr();
          if (a[0] === 'until-ready' || a[0] === 'continuously') cfg.monitor = a[0];
          else throw c.err(`monitor type '${a[0]!}' not supported`);
          break;
        }
        default:
          throw c.err(`unknown property '${c.val()}'`);
      }
    }
  }
  return cfg;
}

/**
 * The set being filled by the configuration that is being set up: every
 * block with `ready` of one configuration adds to the same set, which
 * becomes the active one when that configuration starts.
 */
let building: ReadySet | undefined;

const plugin: PluginDefinition = {
  name: 'ready',
  setup(c: Controller): void {
    const cfg = parseReady(c);
    const set = (building ??= new ReadySet());
    set.monitor = cfg.monitor;

    const collect = (): void => {
      for (const h of c.config.handlers) if (isReadiness(h)) set.add(h.name, h);
    };
    const start = async (): Promise<void> => {
      if (building === set) building = undefined;
      collect();
      activate(set);
      await ensureReady(cfg.addr);
    };
    c.onStartup(start);
    c.onRestartFailed(async () => {
      building = undefined; // a half-built configuration's set is dropped
      await start();
    });
    c.onRestart(() => stopReady(cfg.addr));
    c.onFinalShutdown(() => stopReady(cfg.addr));
    // no handler
  },
};

export default plugin;
