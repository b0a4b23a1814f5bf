/**
 * The per-query context: cancellation signal, where the query was routed,
 * metadata and a logger. Cheap to create (one object per query); derive a
 * narrowed copy with `withSignal`.
 */
import { signalSource, type AbortSource } from './abort.js';
import type { BlockConfig } from './config.js';
import type { Server } from './server.js';

const neverAborted: AbortSignal = new AbortController().signal;

/** Per-query metadata values (CoreDNS's metadata plugin): label -> value function. */
export type MetadataFunc = () => string;

export class Context {
  /** Aborted when the query should stop waiting (the `cancel` plugin, shutdown). */
  signal: AbortSignal;
  /** Listener address, as in metrics: `dns://:53`, `dns://127.0.0.1:1053`. */
  readonly server: string;
  /** The zone of the server block key that matched (`.`, `example.org.`). */
  readonly zone: string;
  /** View name, or '' (no view plugin). */
  view: string;
  /** The server block configuration that is serving the query. */
  readonly config: BlockConfig | undefined;
  /** performance.now() when the server received the query. */
  readonly received: number;
  /** The server that routed the query (plugins resolve through it with `lookupSelf`). */
  dnsServer: Server | undefined = undefined;
  /** How many `lookupSelf` calls this query is nested in. */
  selfLookups = 0;
  private values: Map<unknown, unknown> | undefined;
  private meta: Map<string, MetadataFunc> | undefined;

  constructor(server: string, zone: string, config: BlockConfig | undefined, received: number, signal: AbortSignal = neverAborted) {
    this.server = server;
    this.zone = zone;
    this.config = config;
    this.received = received;
    this.signal = signal;
    this.view = '';
  }

  /** A copy of this context with another signal (values and metadata are shared). */
  withSignal(signal: AbortSignal): Context {
    const c = Object.create(Context.prototype) as Context;
    Object.assign(c, this);
    c.signal = signal;
    return c;
  }

  /**
   * The query's cancellation to wait on (aborted with `signal`): what a plugin
   * that only needs to stop waiting should use, as it need not make a signal.
   */
  abortSource(): AbortSource {
    return signalSource(this.signal);
  }

  /** Stores a request-scoped value (any key; use a Symbol or a class to avoid clashes). */
  set(key: unknown, value: unknown): void {
    (this.values ??= new Map()).set(key, value);
  }

  get<T>(key: unknown): T | undefined {
    return this.values?.get(key) as T | undefined;
  }

  /** Publishes a metadata label (e.g. `forward/upstream`); read with `metadata()`. */
  setMetadata(label: string, fn: MetadataFunc): void {
    (this.meta ??= new Map()).set(label, fn);
  }

  /** The value of a metadata label, or undefined. */
  metadata(label: string): string | undefined {
    const f = this.meta?.get(label);
    return f ? f() : undefined;
  }

  /** A context for tests and tools: server `dns://:53`, zone `.`. */
  static background(): Context {
    return new Context('dns://:53', '.', undefined, performance.now());
  }
}
