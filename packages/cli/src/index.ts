export { main } from './main.js';
export { parseFlags, usage, type FlagDef } from './flags.js';
export { loadPluginCfg, parsePluginCfg, defaultPluginCfgPath } from './plugincfg.js';
