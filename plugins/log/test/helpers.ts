import {
  Instance,
  PluginRegistry,
  RECURSION_DESIRED,
  setLogSink,
  type Address,
  type Msg,
  type PluginDefinition,
  type ResponseWriter,
  type TransportName,
} from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';

/** A writer that keeps what was written. */
export class FakeWriter implements ResponseWriter {
  readonly msgs: Msg[] = [];
  readonly wires: Uint8Array[] = [];
  readonly remote: Address;
  readonly local: Address;
  readonly transport: TransportName;
  readonly proto: 'udp' | 'tcp';

  constructor(opts: { remote?: Address; local?: Address; transport?: TransportName } = {}) {
    this.remote = opts.remote ?? { address: '10.240.0.1', port: 40212, family: 4 };
    this.local = opts.local ?? { address: '127.0.0.1', port: 53, family: 4 };
    this.transport = opts.transport ?? 'udp';
    this.proto = this.transport === 'udp' ? 'udp' : 'tcp';
  }
  writeMsg(m: Msg): void {
    this.msgs.push(m);
  }
  write(wire: Uint8Array): void {
    this.wires.push(wire);
  }
}

/** A query like miekg's SetQuestion (RD set), id 29008 unless given. */
export function query(name: string, type = 'A', opts: { id?: number; qclass?: string; flags?: number } = {}): Msg {
  return {
    id: opts.id ?? 29008,
    type: 'query',
    flags: opts.flags ?? RECURSION_DESIRED,
    questions: [{ name, type, class: opts.qclass ?? 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** Builds (without starting) an instance from Corefile text. */
export function build(text: string, plugins: PluginDefinition[]): Promise<Instance> {
  const validDirectives = new Set(plugins.map((p) => p.name));
  const blocks = inspectServerBlocks(parseCorefile(text, { filename: 'Corefile', validDirectives }), { defaultPort: '0' });
  return Instance.build({ filename: 'Corefile', blocks, registry: PluginRegistry.of(plugins) });
}

/** The message of the error `fn` rejects with. */
export async function errorOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected an error');
}

/** Captures log lines (without the trailing newline) while `fn` runs. */
export async function captureLog<T>(fn: () => T | Promise<T>): Promise<{ lines: string[]; result: T }> {
  const lines: string[] = [];
  const prev = setLogSink({ write: (l) => lines.push(l.replace(/\n$/, '')) });
  try {
    const result = await fn();
    return { lines, result };
  } finally {
    setLogSink(prev);
  }
}

/** A clock returning the given values in turn (then repeating the last one). */
export function steppingClock(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}
