import { makeQuery, buildCorefile } from '@tsdns/testing';
import type { Instance, Msg, PluginDefinition } from '@tsdns/core';

export { MemoryWriter as FakeWriter, errorOf, captureLog, steppingClock } from '@tsdns/testing';

/** A query like miekg's SetQuestion (RD set), id 29008 unless given; `flags` replaces the header flags. */
export function query(name: string, type = 'A', opts: { id?: number; qclass?: string; flags?: number } = {}): Msg {
  const q = makeQuery(name, type, { id: opts.id ?? 29008, ...(opts.qclass ? { class: opts.qclass } : {}) });
  if (opts.flags !== undefined) q.flags = opts.flags;
  return q;
}

/** Builds (without starting) an instance from Corefile text. */
export function build(text: string, plugins: PluginDefinition[]): Promise<Instance> {
  return buildCorefile(text, { plugins, loopback: false });
}
