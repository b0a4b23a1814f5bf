/**
 * The primary process of `tsdns -workers N` (Node's cluster). It has parsed
 * the flags and checked the Corefile (every plugin's setup, nothing started)
 * before forking; then it
 *
 * - forks N workers and gives each the Corefile text; they serve DNS on
 *   sockets the primary shares (UDP: one socket read by every worker, the
 *   kernel hands each datagram to one of them; TCP: the primary accepts and
 *   passes connections round robin — `NODE_CLUSTER_SCHED_POLICY=none` lets
 *   the workers accept themselves);
 * - opens the plugins' HTTP addresses in front of the workers (httpfront.ts)
 *   and relays the workers' metrics for /metrics;
 * - owns the signals: SIGUSR1 (and the reload plugin, which polls in worker
 *   1) reloads every worker with the same text, one reload at a time; a
 *   Corefile that fails keeps the old configuration in every worker;
 *   SIGTERM/SIGINT stop every worker gracefully, then exit with CoreDNS's
 *   status; SIGQUIT quits at once;
 * - replaces a worker that dies (logged), with the configuration running
 *   now, after a back-off when it keeps dying.
 */
import cluster, { type Worker } from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { Instance, log, registry as metricsRegistry, type PluginRegistry } from '@tsdns/core';
import { HttpFronts } from './httpfront.js';
import { Channel, ChannelClosedError } from './ipc.js';
import { buildInput, loadCorefile, type Loaded } from './load.js';
import { errorText, fatal, installSignals, versionText } from './runtime.js';

export interface PrimaryOptions {
  workers: number;
  registry: PluginRegistry;
  port: string;
  conf: string | undefined;
  quiet: boolean;
  pidfile: string | undefined;
  /** The Corefile checked at start. */
  loaded: Loaded;
  /** Zone lines of the checked configuration (the banner). */
  banner: string;
}

interface Slot {
  n: number;
  worker: Worker | undefined;
  ch: Channel | undefined;
  state: 'starting' | 'serving' | 'down';
  /** The worker listens for messages (what is sent before is lost). */
  greeted: boolean;
  startedAt: number;
  /** Deaths in a row shortly after starting (for the back-off). */
  quickDeaths: number;
  timer: NodeJS.Timeout | undefined;
}

/** A worker that lived less than this and died counts towards the restart back-off. */
const QUICK_DEATH_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

class Primary {
  readonly o: PrimaryOptions;
  readonly slots: Slot[];
  private readonly byWorker = new Map<number, Slot>();
  current: Loaded;
  private queue: Promise<unknown> = Promise.resolve();
  stopping = false;
  private readonly live = new Set<Worker>();
  /** Workers killed on purpose while stopping (not a failed stop). */
  private readonly dismissed = new Set<Worker>();
  private readonly exitCodes: number[] = [];
  private allExited: (() => void) | undefined;
  readonly fronts: HttpFronts;

  constructor(o: PrimaryOptions) {
    this.o = o;
    this.current = o.loaded;
    this.slots = Array.from({ length: o.workers }, (_, i) => ({ n: i + 1, worker: undefined, ch: undefined, state: 'down' as const, greeted: false, startedAt: 0, quickDeaths: 0, timer: undefined }));
    this.fronts = new HttpFronts({
      servingWorkers: () => this.slots.filter((s) => s.state === 'serving' && s.worker).map((s) => s.worker!.id),
      slotsNotServing: () => this.slots.filter((s) => s.state !== 'serving').map((s) => s.n),
      slotOf: (id) => this.byWorker.get(id)?.n,
    });
    cluster.on('exit', (w, code, signal) => this.onExit(w, code, signal));
  }

  /** Runs `fn` after everything queued before it: starts, restarts and reloads never overlap. */
  enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Forks the worker of a slot and starts it with the running configuration; resolves once it serves. */
  async fork(slot: Slot): Promise<Worker> {
    const w = cluster.fork({ TSDNS_WORKER_SLOT: String(slot.n) });
    let hello: () => void = () => undefined;
    const greeted = new Promise<void>((resolve) => (hello = resolve));
    const ch = new Channel((m) => w.send(m), {
      request: (op, body) => this.serve(w, op, body),
      note: (op, body) => {
        if (op === 'hello') {
          if (slot.worker === w) slot.greeted = true;
          hello();
        } else if (op === 'http-close') {
          const b = body as { addr: string; port: number };
          this.fronts.unregister(w.id, b.addr, b.port);
        }
      },
    });
    w.on('message', (m) => {
      ch.receive(m);
    });
    slot.worker = w;
    slot.ch = ch;
    slot.state = 'starting';
    slot.greeted = false;
    slot.startedAt = Date.now();
    this.byWorker.set(w.id, slot);
    this.live.add(w);
    try {
      await Promise.race([greeted, exitOf(w).then(() => Promise.reject(new ChannelClosedError('exited')))]);
      await ch.request('start', this.current);
    } catch (e) {
      if (slot.worker === w) slot.state = 'down';
      w.process.kill('SIGKILL');
      if (e instanceof ChannelClosedError) {
        const st = await exitOf(w);
        throw new Error(`worker ${slot.n} exited while starting (${st})`);
      }
      throw e;
    }
    if (slot.worker === w) slot.state = 'serving';
    return w;
  }

  /** Requests from a worker. */
  private serve(w: Worker, op: string, body: unknown): unknown {
    switch (op) {
      case 'reload':
        return this.enqueue(() => this.reloadAll(body as Loaded));
      case 'metrics':
        return this.gatherMetrics();
      case 'http-listen': {
        const b = body as { addr: string; port: number; tls: boolean };
        return this.fronts.register(w.id, b.addr, b.port, b.tls);
      }
      default:
        throw new Error(`unknown request ${op}`);
    }
  }

  /**
   * Every worker's `getMetricsAsJSON()`, and this process's own `process_*`
   * and `nodejs_*` figures (its memory and CPU are the server's too; its
   * `coredns_*` metrics are left out: nothing is served here). A worker that
   * is gone is left out; one that does not answer fails the scrape.
   */
  private async gatherMetrics(): Promise<unknown[]> {
    const asked = this.slots.filter((s) => s.ch && !s.ch.isClosed);
    const [own, got] = await Promise.all([ownProcessMetrics(), Promise.allSettled(asked.map((s) => s.ch!.request('collect', undefined, 5000)))]);
    const out: unknown[] = [];
    got.forEach((r, i) => {
      if (r.status === 'fulfilled') out.push(r.value);
      else if (!(r.reason instanceof ChannelClosedError)) throw new Error(`worker ${asked[i]!.n}: ${errorText(r.reason)}`);
    });
    if (own.length > 0) out.push(own);
    return out;
  }

  /**
   * Reloads every serving worker with `src` (SIGUSR1, or the reload plugin
   * of worker 1). The primary first sets the configuration up itself (parse
   * and plugin setup, nothing started) so that a broken Corefile is reported
   * once and no worker stops its HTTP endpoints for it. If some workers
   * failed where others succeeded, those go back to the previous text.
   */
  async reloadAll(src: Loaded): Promise<void> {
    if (this.stopping) throw new Error('shutting down');
    try {
      await Instance.build(buildInput(src, this.o.registry, this.o.port));
    } catch (e) {
      const msg = `starting with listener file descriptors: ${errorText(e)}`;
      log.info('Reloading');
      log.error(`Restart failed: ${msg}`);
      throw new Error(msg);
    }
    const previous = this.current;
    const targets = this.slots.filter((s) => s.state === 'serving' && s.ch);
    const results = await Promise.allSettled(targets.map((s) => s.ch!.request('reload', src)));
    const failures = results.flatMap((r) => (r.status === 'rejected' && !(r.reason instanceof ChannelClosedError) ? [r.reason as unknown] : []));
    if (failures.length === 0) {
      this.current = src;
      return;
    }
    const reloaded = targets.filter((_, i) => results[i]!.status === 'fulfilled');
    if (reloaded.length > 0) {
      log.error(`Reload failed in ${failures.length} of ${targets.length} workers; the others go back to the previous configuration`);
      await Promise.allSettled(reloaded.map((s) => s.ch!.request('reload', previous)));
    }
    throw failures[0];
  }

  private onExit(w: Worker, code: number | null, signal: string | null): void {
    this.live.delete(w);
    const slot = this.byWorker.get(w.id);
    this.byWorker.delete(w.id);
    this.fronts.dropWorker(w.id);
    if (slot && slot.worker === w) {
      slot.ch?.close();
      const wasServing = slot.state === 'serving';
      slot.state = 'down';
      slot.worker = undefined;
      slot.ch = undefined;
      if (this.stopping) {
        if (!this.dismissed.has(w)) this.exitCodes.push(code === 0 || code === 3 || code === 4 ? code : 3);
      } else if (wasServing) {
        log.error(`Worker ${slot.n} (pid ${w.process.pid ?? '?'}) died (${signal ? `signal ${signal}` : `exit status ${code ?? '?'}`}): starting a new one`);
        this.scheduleRestart(slot);
      }
    }
    if (this.live.size === 0) this.allExited?.();
  }

  private scheduleRestart(slot: Slot): void {
    if (this.stopping) return;
    slot.quickDeaths = Date.now() - slot.startedAt < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    const delay = slot.quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (slot.quickDeaths - 1));
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.enqueue(async () => {
        if (this.stopping) return;
        try {
          const w = await this.fork(slot);
          log.info(`Worker ${slot.n} started (pid ${w.process.pid ?? '?'})`);
        } catch (e) {
          if (this.stopping) return;
          log.error(`Worker ${slot.n} failed to start: ${errorText(e)}`);
          this.scheduleRestart(slot);
        }
      });
    }, delay);
  }

  /** Tells every worker to stop (`SIGTERM`: hooks then servers; `SIGINT`: hooks); resolves with the exit status. */
  async stopAll(signal: 'SIGTERM' | 'SIGINT'): Promise<number> {
    this.stopping = true;
    for (const s of this.slots) if (s.timer) clearTimeout(s.timer);
    const done = new Promise<void>((resolve) => {
      this.allExited = resolve;
      if (this.live.size === 0) resolve();
    });
    for (const s of this.slots) {
      if (!s.worker) continue;
      // a worker still loading would not hear the note; it serves nothing yet
      if (s.greeted) s.ch?.note('stop', { signal });
      else {
        this.dismissed.add(s.worker);
        s.worker.process.kill('SIGKILL');
      }
    }
    await done;
    return this.exitCodes.includes(4) ? 4 : this.exitCodes.includes(3) ? 3 : 0;
  }

  killAll(): void {
    this.stopping = true;
    for (const w of this.live) w.process.kill('SIGKILL');
  }
}

/** The primary's `process_*` and `nodejs_*` families (registered by the prometheus plugin's setup, run here to check the Corefile). */
async function ownProcessMetrics(): Promise<unknown[]> {
  const all = (await metricsRegistry.getMetricsAsJSON()) as { name: string }[];
  return all.filter((m) => m.name.startsWith('process_') || m.name.startsWith('nodejs_'));
}

function exitOf(w: Worker): Promise<string> {
  return new Promise((resolve) => {
    const describe = (): string => {
      const p = w.process;
      return p.signalCode ? `signal ${p.signalCode}` : `exit status ${p.exitCode ?? '?'}`;
    };
    if (w.process.exitCode !== null || w.process.signalCode !== null) {
      resolve(describe());
      return;
    }
    w.once('exit', () => resolve(describe()));
  });
}

export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const p = new Primary(o);
  // start every worker at once; the first failure (in slot order) is the start error
  const started = await p.enqueue(() => Promise.allSettled(p.slots.map((s) => p.fork(s))));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    p.killAll();
    fatal(errorText((failed as PromiseRejectedResult).reason));
  }

  if (!o.quiet) process.stdout.write(o.banner + versionText());
  if (o.pidfile) {
    try {
      writeFileSync(o.pidfile, `${process.pid}\n`, { mode: 0o644 });
    } catch (e) {
      p.killAll();
      fatal(`could not write pidfile: ${errorText(e)}`);
    }
  }
  installSignals({
    pidfile: o.pidfile,
    stop: (signame) => p.stopAll(signame),
    close: () => p.fronts.closeAll(),
    kill: () => p.killAll(),
    read: () => loadCorefile(o.conf, o.port),
    reload: (loaded) => p.enqueue(() => p.reloadAll(loaded)),
  });
}
