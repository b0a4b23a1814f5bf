import { buildCorefile } from '@tsdns/testing';
import type { Instance, PluginDefinition } from '@tsdns/core';

export { MemoryWriter as FakeWriter, errorOf, captureLog, steppingClock, setQuestion as query } from '@tsdns/testing';

/** Builds (without starting) an instance from Corefile text. */
export function build(text: string, plugins: PluginDefinition[]): Promise<Instance> {
  return buildCorefile(text, { plugins, loopback: false });
}
