import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { setInterfaceLister, systemInterfaces, type InterfaceLister, type NetInterface } from './setup.js';

/** `bind`: sets the addresses a server block listens on. It adds no handler. */
const plugin: PluginDefinition = { name: 'bind', setup };

export default plugin;
