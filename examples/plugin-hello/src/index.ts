import { originsFromArgsOrServerBlock, type Controller, type PluginDefinition } from '@tsdns/core';
import { Hello } from './hello.js';

export { Hello };

/**
 * hello [GREETING] { zones ZONE... }
 *
 * A plugin package's default export is its definition: the directive name
 * and a setup function that reads the directive's tokens and adds handlers.
 */
const plugin: PluginDefinition = {
  name: 'hello',
  setup(c: Controller): void {
    let i = 0;
    while (c.next()) {
      if (i++ > 0) throw c.errOnce();
      const args = c.remainingArgs();
      if (args.length > 1) throw c.argErr();
      const greeting = args[0] ?? 'hello';
      let zones: string[] = [];
      while (c.nextBlock()) {
        if (c.val() !== 'zones') throw c.err(`unknown property '${c.val()}'`);
        zones = c.remainingArgs();
        if (zones.length === 0) throw c.argErr();
      }
      const origins = originsFromArgsOrServerBlock(zones, c.keys);
      c.addPlugin((next) => new Hello(next, greeting, origins));
    }
  },
};

export default plugin;
