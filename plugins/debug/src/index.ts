import type { Controller, PluginDefinition } from '@tsdns/core';

export { hexdump } from './hexdump.js';

/**
 * `debug`: marks the server block for debugging: `[DEBUG]` log lines are
 * printed and a handler that throws is logged with its stack (the query is
 * still answered SERVFAIL). It adds no handler.
 */
const plugin: PluginDefinition = {
  name: 'debug',
  setup(c: Controller): void {
    while (c.next()) {
      if (c.nextArg()) throw c.argErr();
      c.config.debug = true;
    }
  },
};

export default plugin;
