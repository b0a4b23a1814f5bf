import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { newTlsConfig, x509KeyPair, loadRoots } from './load.js';

/**
 * `tls`: certificate, key, client CA and client-auth policy of the block's
 * tls:// (DNS over TLS) and https:// (DNS over HTTPS) listeners. It adds no
 * handler.
 */
const plugin: PluginDefinition = { name: 'tls', setup };

export default plugin;
