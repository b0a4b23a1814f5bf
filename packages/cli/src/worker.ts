/**
 * A worker of `tsdns -workers N`: serves DNS on the sockets the primary
 * shares, builds its configuration from the Corefile text the primary sends
 * (the same text in every worker), reloads and stops when the primary says
 * so, and leaves its plugins' HTTP endpoints to the primary (it serves them
 * on a private loopback port the primary forwards to).
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  Instance,
  preloadLogger,
  registry as metricsRegistry,
  setHttpListenHook,
  setMetricsGatherer,
  setNotices,
  setProcessReloader,
  warmUpLater,
  type MetricFamilyJson,
  type PluginRegistry,
} from '@tsdns/core';
import { Channel } from './ipc.js';
import { buildInput, loadCorefile, type Loaded } from './load.js';
import { shutdownCallbacks } from './runtime.js';

export interface WorkerOptions {
  registry: PluginRegistry;
  port: string;
  conf: string | undefined;
  /** 1..N; the replacement of a worker that died takes its slot. */
  slot: number;
}

/** Signals are the primary's business: a terminal's Ctrl-C reaches every process of the group. */
const IGNORED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR1', 'SIGHUP'];

export function runWorker(o: WorkerOptions): void {
  // lines about the whole server (reloading, lameduck) come from worker 1 only
  setNotices(o.slot === 1);
  let instance: Instance | undefined;
  let running: Loaded | undefined;
  let reloading: Promise<void> = Promise.resolve();
  let stopping = false;
  const read = (): Loaded => loadCorefile(o.conf, o.port);

  const start = async (src: Loaded): Promise<void> => {
    if (instance) throw new Error('already started');
    running = src;
    const inst = await Instance.build(buildInput(src, o.registry, o.port, false));
    await inst.start();
    instance = inst;
    warmUpLater(preloadLogger);
  };

  // one reload at a time (the primary sends one at a time, but keep the guarantee local too)
  const reload = (src: Loaded): Promise<void> => {
    const run = reloading.then(async () => {
      if (!instance) throw new Error('not started');
      const previous = running;
      running = src;
      try {
        instance = await instance.restart(async () => buildInput(src, o.registry, o.port, false));
      } catch (e) {
        running = previous;
        throw e;
      }
    });
    reloading = run.catch(() => undefined);
    return run;
  };

  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const inst = instance;
    if (!inst) process.exit(0);
    const code = await shutdownCallbacks(inst, signal);
    if (signal === 'SIGTERM') await inst.stopListeners(5000);
    process.exit(code);
  };

  const ch = new Channel((m) => process.send!(m), {
    request(op, body) {
      switch (op) {
        case 'start':
          return start(body as Loaded);
        case 'reload':
          return reload(body as Loaded);
        case 'collect':
          return metricsRegistry.getMetricsAsJSON();
        default:
          throw new Error(`unknown request ${op}`);
      }
    },
    note(op, body) {
      if (op === 'stop') void stop((body as { signal: string }).signal);
    },
  });
  process.on('message', (m) => {
    ch.receive(m);
  });
  process.on('disconnect', () => ch.close());
  for (const s of IGNORED) process.on(s, () => undefined);

  // /metrics: the sum over every worker, gathered by the primary
  setMetricsGatherer(async () => (await ch.request('metrics', undefined, 10000)) as MetricFamilyJson[][]);
  setHttpListenHook((server, addr) => listenBehindPrimary(ch, server, addr));
  // The reload plugin polls in worker 1 only, and its reloads go through the primary, which
  // reloads every worker with the same text; in the other workers it finds no reloader and
  // does not poll.
  if (o.slot === 1) {
    setProcessReloader({
      read,
      current: () => running ?? read(),
      reload: async (src) => {
        await ch.request('reload', src ?? read());
      },
    });
  } else {
    setProcessReloader(undefined);
  }
  // messages sent before a listener exists are lost: the primary waits for this one
  ch.note('hello');
}

/**
 * A plugin's HTTP server in a worker: it listens on a private loopback port
 * and the primary opens `addr` (once, for every worker) in front of it. The
 * primary's answer is what the plugin gets back: the address clients reach,
 * or the listen error CoreDNS would print.
 */
async function listenBehindPrimary(ch: Channel, server: HttpServer, addr: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  try {
    const bound = (await ch.request('http-listen', { addr, port, tls: server instanceof tls.Server })) as AddressInfo;
    server.once('close', () => ch.note('http-close', { addr, port }));
    return bound;
  } catch (e) {
    server.close();
    throw e;
  }
}
