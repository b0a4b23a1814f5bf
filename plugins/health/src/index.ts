/**
 * The `health` plugin: a process-wide HTTP health endpoint.
 *
 *     health [ADDRESS] {
 *         lameduck DURATION
 *     }
 */
import { ConfigError, DurationError, formatGoDuration, goDurationQuote, parseGoDuration, type Controller, type PluginDefinition } from '@tsdns/core';
import { ensureHealth, log, stopHealth } from './health.js';
import { goSplitHostPort as splitHostPort } from '@tsdns/core';

export { HealthListener, Prober, ensureHealth, stopHealth, healthListener, healthDuration, healthFailures, PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS } from './health.js';

/** Where /health is served when no ADDRESS is given. */
export const DEFAULT_ADDR = ':8080';

export interface HealthConfig {
  addr: string;
  /** Lameduck duration in milliseconds (0: none). */
  lameduckMs: number;
}

/**
 * Reads the block's `health` lines (CoreDNS's `parse`): not "once" — each
 * occurrence overrides what it sets, so the last one wins.
 */
export function parseHealth(c: Controller): HealthConfig {
  let addr = '';
  let lameduckMs = 0;
  while (c.next()) {
    const args = c.remainingArgs();
    if (args.length === 1) {
      addr = args[0]!;
      try {
        splitHostPort(addr);
      } catch (e) {
        throw new ConfigError(`plugin/health: ${(e as Error).message}`);
      }
    } else if (args.length > 1) {
      throw c.argErr();
    }
    while (c.nextBlock()) {
      switch (c.val()) {
        case 'lameduck': {
          const a = c.remainingArgs();
          if (a.length !== 1) throw c.argErr();
          try {
            lameduckMs = parseGoDuration(a[0]!);
          } catch (e) {
            const why = e instanceof DurationError ? e.message : `time: invalid duration ${goDurationQuote(a[0]!)}`;
            throw new ConfigError(`plugin/health: unable to parse lameduck duration value: '${a[0]!}' : ${why}`);
          }
          break;
        }
        default:
          throw c.err(`unknown property '${c.val()}'`);
      }
    }
  }
  return { addr: addr === '' ? DEFAULT_ADDR : addr, lameduckMs };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const plugin: PluginDefinition = {
  name: 'health',
  setup(c: Controller): void {
    const cfg = parseHealth(c);
    let up = false;
    const start = async (): Promise<void> => {
      await ensureHealth(cfg.addr);
      up = true;
    };
    c.onStartup(start);
    c.onRestartFailed(start);
    c.onRestart(async () => {
      if (!up) return;
      up = false;
      await stopHealth(cfg.addr);
    });
    c.onFinalShutdown(async () => {
      if (!up) return;
      if (cfg.lameduckMs > 0) {
        log.notice(`Going into lameduck mode for ${formatGoDuration(cfg.lameduckMs)}`);
        await sleep(cfg.lameduckMs);
      }
      up = false;
      await stopHealth(cfg.addr);
    });
    // no handler: health is a separate web server, not part of the chain
  },
};

export default plugin;
