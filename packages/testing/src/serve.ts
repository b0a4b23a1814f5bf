/**
 * serveCorefile: a whole tsdns configuration running in the test's own
 * process (parse -> plugin setup -> listeners), queried over real sockets.
 */
import {
  Instance,
  PluginRegistry,
  setLogSink,
  type Controller,
  type InstanceOptions,
  type PluginDefinition,
  type Msg,
} from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import { queryTcp, queryUdp, type DnsReply } from './client.js';
import { makeQuery, type QueryOptions } from './query.js';

/** Directive injected into every block to make it listen on 127.0.0.1 (see `loopback`). */
const LOOPBACK_DIRECTIVE = '__tsdns_testing_loopback';

const loopbackPlugin: PluginDefinition = {
  name: LOOPBACK_DIRECTIVE,
  setup(c: Controller): void {
    c.config.listenHosts = ['127.0.0.1'];
  },
};

export interface ServeCorefileOptions {
  /** The plugins available to the Corefile, in chain order (plugin.cfg order). Default: none. */
  plugins?: PluginDefinition[] | PluginRegistry;
  /** Port for keys without one (CoreDNS's -dns.port). Default `0`: a random port. */
  defaultPort?: string;
  /** File name used in error messages (default `Corefile`). */
  filename?: string;
  /**
   * Listen on 127.0.0.1 only (default true), as if every block started with
   * `bind 127.0.0.1` (a `bind` in the block still wins). Server keys (and the
   * `server` metrics label) then read `dns://127.0.0.1:PORT`; pass false to
   * listen on every interface with CoreDNS's `dns://:PORT` keys.
   */
  loopback?: boolean;
}

export interface BoundAddress {
  /** The listener key, e.g. `dns://127.0.0.1:0`. */
  server: string;
  transport: string;
  address: string;
  port: number;
}

export interface TestQueryOptions extends QueryOptions {
  /** Query over TCP instead of UDP. */
  tcp?: boolean;
  /** Reply timeout (default 2000 ms). */
  timeoutMs?: number;
  /** Which listener to query: index in `addresses()` order of servers, or a listener key. Default: the first. */
  server?: number | string;
}

export interface TestServer {
  readonly instance: Instance;
  /** Every bound socket. */
  addresses(): BoundAddress[];
  /** Host and port of a listener's UDP socket (default: the first listener). */
  udpAddress(server?: number | string): { address: string; port: number };
  /** Host and port of a listener's TCP socket (default: the first listener). */
  tcpAddress(server?: number | string): { address: string; port: number };
  /** Sends a query (built with `makeQuery`) or a message/bytes over UDP (or TCP). */
  query(name: string, type?: string, opts?: TestQueryOptions): Promise<DnsReply>;
  /** Sends a prepared message or raw bytes. */
  send(q: Msg | Uint8Array, opts?: { tcp?: boolean; timeoutMs?: number; server?: number | string }): Promise<DnsReply>;
  /** Stops the listeners and runs the shutdown hooks. */
  close(): Promise<void>;
}

function toRegistry(p: PluginDefinition[] | PluginRegistry | undefined): PluginRegistry {
  if (p instanceof PluginRegistry) return p;
  return PluginRegistry.of(p ?? []);
}

export type CorefileInputOptions = ServeCorefileOptions;

/**
 * Parses a Corefile into what `Instance.build` and `Instance.restart` take:
 * the inspected blocks and a registry of the given plugins (plus, with
 * `loopback`, a hidden directive that binds every block to 127.0.0.1).
 */
export function corefileInput(corefile: string, opts: CorefileInputOptions = {}): InstanceOptions {
  const base = toRegistry(opts.plugins);
  const loopback = opts.loopback ?? true;
  const filename = opts.filename ?? 'Corefile';
  const blocks = parseCorefile(corefile, { filename, validDirectives: new Set(base.names()) });
  const inspected = inspectServerBlocks(blocks, { defaultPort: opts.defaultPort ?? '0' });
  let registry = base;
  if (loopback) {
    registry = new PluginRegistry([
      { name: LOOPBACK_DIRECTIVE, source: '@tsdns/testing', load: () => loopbackPlugin },
      ...base.names().map((n) => ({ name: n, source: n, load: () => base.get(n) })),
    ]);
    for (const b of inspected) {
      const line = b.block.keyTokens[0]?.line ?? 1;
      b.block.tokens.set(LOOPBACK_DIRECTIVE, [{ text: LOOPBACK_DIRECTIVE, file: filename, line }]);
    }
  }
  return { filename, blocks: inspected, registry };
}

/** Parses a Corefile and runs every plugin's setup, without listening. */
export function buildCorefile(corefile: string, opts: CorefileInputOptions = {}): Promise<Instance> {
  return Instance.build(corefileInput(corefile, opts));
}

/** The message of the error a Corefile's setup fails with; throws if it builds. */
export async function setupError(corefile: string, opts: CorefileInputOptions = {}): Promise<string> {
  try {
    await buildCorefile(corefile, opts);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error('expected the Corefile to fail setup, but it built');
}

export async function serveCorefile(corefile: string, opts: ServeCorefileOptions = {}): Promise<TestServer> {
  const { filename, blocks: inspected, registry } = corefileInput(corefile, opts);
  const instance = await Instance.build({ filename, blocks: inspected, registry });
  await instance.start();
  let closed = false;

  const servers = (): string[] => [...new Set(instance.boundAddresses().map((a) => a.server))];
  const pick = (transport: 'udp' | 'tcp', server: number | string | undefined): { address: string; port: number } => {
    const all = instance.boundAddresses();
    const key = typeof server === 'string' ? server : servers()[server ?? 0];
    const a = all.find((x) => x.server === key && x.transport === transport);
    if (!a) throw new Error(`no ${transport} listener for ${String(server ?? 0)} (have: ${servers().join(', ')})`);
    const address = a.address === '::' || a.address === '0.0.0.0' || a.address === '' ? '127.0.0.1' : a.address;
    return { address, port: a.port };
  };
  const send = (q: Msg | Uint8Array, o: { tcp?: boolean; timeoutMs?: number; server?: number | string } = {}): Promise<DnsReply> => {
    const t = pick(o.tcp ? 'tcp' : 'udp', o.server);
    const co = o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs };
    return o.tcp ? queryTcp(t.address, t.port, q, co) : queryUdp(t.address, t.port, q, co);
  };

  return {
    instance,
    addresses: () => instance.boundAddresses(),
    udpAddress: (s) => pick('udp', s),
    tcpAddress: (s) => pick('tcp', s),
    query: (name, type = 'A', o = {}) => send(makeQuery(name, type, o), o),
    send,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await stopInstance(instance);
    },
  };
}

/** Stops an instance as `TestServer.close` does: listeners closed, then the shutdown and final-shutdown hooks. */
export async function stopInstance(instance: Instance): Promise<void> {
  await instance.stopListeners(0);
  await instance.lifecycle.runAll('shutdown');
  await instance.lifecycle.runAll('finalShutdown');
}

/**
 * The message of the error a Corefile fails with when served (setup or
 * startup, listen errors included); '' when it serves (it is closed again).
 */
export async function serveError(corefile: string, opts: ServeCorefileOptions = {}): Promise<string> {
  try {
    const s = await serveCorefile(corefile, opts);
    await s.close();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

/**
 * Runs `parse` as the setup of the directive `name` in every block of a
 * Corefile that uses it (the Corefile is served, then closed) and returns
 * what it gave, in order: a plugin's option parsing without its handler.
 */
export async function parseEach<T>(name: string, parse: (c: Controller) => T, corefile: string, opts: Omit<ServeCorefileOptions, 'plugins'> = {}): Promise<T[]> {
  const got: T[] = [];
  const probe: PluginDefinition = {
    name,
    setup(c: Controller): void {
      got.push(parse(c));
    },
  };
  const s = await serveCorefile(corefile, { ...opts, plugins: [probe] });
  await s.close();
  return got;
}

/** What `Instance.restart` takes for a Corefile text, listening on 127.0.0.1 as `serveCorefile` does. */
export function reloadInput(corefile: string, plugins: PluginDefinition[]): () => Promise<InstanceOptions> {
  return () => Promise.resolve(corefileInput(corefile, { plugins }));
}

export interface CapturedLogs {
  /** Lines logged since the capture started (without the trailing newline). */
  readonly lines: string[];
  /** Restores the previous log destination. */
  restore(): void;
}

/**
 * Captures tsdns log output (`[INFO] ...`, `[ERROR] ...`) of this process
 * instead of writing it to stdout. Call `restore()` when done.
 */
export function captureLogs(opts: { echo?: boolean } = {}): CapturedLogs {
  const lines: string[] = [];
  let prev: ReturnType<typeof setLogSink> | undefined;
  prev = setLogSink({
    write(line: string): void {
      for (const l of line.replace(/\n$/, '').split('\n')) lines.push(l);
      if (opts.echo && prev) prev.write(line);
    },
  });
  return {
    lines,
    restore(): void {
      if (prev) setLogSink(prev);
      prev = undefined;
    },
  };
}

/** Captures log lines (without trailing newlines) while `fn` runs. */
export async function captureLog<T>(fn: () => T | Promise<T>): Promise<{ lines: string[]; result: T }> {
  const cap = captureLogs();
  try {
    const result = await fn();
    return { lines: cap.lines, result };
  } finally {
    cap.restore();
  }
}
