/**
 * The `cancel` plugin: a deadline for every query.
 *
 *     cancel [TIMEOUT]
 */
import { ConfigError, parseGoDuration, type Controller, type PluginDefinition } from '@tsdns/core';
import { Cancel } from './cancel.js';

export { Cancel, Deadline, withDeadline, deadlineExceeded, canceled } from './cancel.js';

/** 5001 ms: just over the 5 s most DNS clients wait. */
export const DEFAULT_TIMEOUT_MS = 5001;

/** Reads the block's `cancel` lines (CoreDNS's `setup`); the last one wins. Returns milliseconds. */
export function parseCancel(c: Controller): number {
  let timeout = DEFAULT_TIMEOUT_MS;
  while (c.next()) {
    const args = c.remainingArgs();
    if (args.length === 0) {
      timeout = DEFAULT_TIMEOUT_MS;
    } else if (args.length === 1) {
      const arg = args[0]!;
      let ms: number;
      try {
        ms = parseGoDuration(arg);
      } catch {
        throw new ConfigError(`plugin/cancel: invalid duration: ${JSON.stringify(arg)}`);
      }
      if (ms <= 0) throw new ConfigError(`plugin/cancel: invalid negative duration: ${JSON.stringify(arg)}`);
      timeout = ms;
    } else {
      throw c.argErr();
    }
  }
  return timeout;
}

const plugin: PluginDefinition = {
  name: 'cancel',
  setup(c: Controller): void {
    const ms = parseCancel(c);
    c.addPlugin((next) => {
      const h = new Cancel(ms);
      h.next = next;
      return h;
    });
  },
};

export default plugin;
