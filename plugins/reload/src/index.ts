/**
 * @tsdns/plugin-reload: CoreDNS's reload plugin. Polls the Corefile and
 * reloads the process (gracefully, keeping the sockets) when it changed.
 *
 *     reload [INTERVAL] [JITTER]
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { goJsonString, serverBlocksJson, hashBlocks, hashCorefile, parseSyntaxOnly } from './hash.js';
export { Poller, currentPoller, type ReloadArm } from './reload.js';
export { reloadFailed, reloadInfo } from './metrics.js';
export {
  parseReload,
  drawPeriodMs,
  setup,
  MIN_INTERVAL_NS,
  MIN_JITTER_NS,
  DEFAULT_INTERVAL_NS,
  DEFAULT_JITTER_NS,
  type ReloadSettings,
} from './setup.js';

const plugin: PluginDefinition = { name: 'reload', setup };

export default plugin;
