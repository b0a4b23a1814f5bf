import type { InstanceOptions, PluginDefinition } from '@tsdns/core';
import { corefileInput } from '@tsdns/testing';

export { httpGet as get, httpRefused as refused, type HttpResult } from '@tsdns/testing';

/** What `Instance.restart` needs for a Corefile text, listening on 127.0.0.1 as `serveCorefile` does. */
export function reloadInput(text: string, plugins: PluginDefinition[]): () => Promise<InstanceOptions> {
  return () => Promise.resolve(corefileInput(text, { plugins }));
}
