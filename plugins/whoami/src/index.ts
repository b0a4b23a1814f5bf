import type { Controller, PluginDefinition } from '@tsdns/core';
import { Whoami } from './whoami.js';

export { Whoami };

const plugin: PluginDefinition = {
  name: 'whoami',
  setup(c: Controller): void {
    c.next(); // 'whoami'
    if (c.nextArg()) throw c.argErr();
    c.addPlugin(() => new Whoami());
  },
};

export default plugin;
