/**
 * The `tsdns` executable: CoreDNS's command line, Corefile loading, start-up
 * banner, pidfile and signals. With `-workers N` (N > 1) this process is the
 * primary of N worker processes (primary.ts, worker.ts); with the default
 * `-workers 1` it serves alone, as CoreDNS does.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildInfo, Instance, preloadLogger, setProcessReloader, log, VERSION, warmUpLater, type PluginRegistry } from '@tsdns/core';
import { FlagError, parseFlags, usage, type FlagDef } from './flags.js';
import { buildInput, loadCorefile, type Loaded } from './load.js';
import { defaultPluginCfgPath, loadPluginCfg } from './plugincfg.js';
import { fatal, installSignals, shutdownCallbacks, versionText } from './runtime.js';
import { TSDNS_VERSION } from './version.js';
import { checkWorkers, resolveWorkers } from './workers.js';

const FLAGS: FlagDef[] = [
  { name: 'conf', kind: 'string', usage: 'Corefile to load (default "Corefile")' },
  { name: 'dns.port', kind: 'string', usage: 'Default port', default: '53' },
  { name: 'p', kind: 'string', usage: 'Default port', default: '53', aliasOf: 'dns.port' },
  { name: 'pidfile', kind: 'string', usage: 'Path to write pid file' },
  { name: 'plugins', kind: 'bool', usage: 'List installed plugins' },
  { name: 'quiet', kind: 'bool', usage: 'Quiet mode (no initialization output)' },
  { name: 'version', kind: 'bool', usage: 'Show version' },
  { name: 'plugin.cfg', kind: 'string', usage: 'plugin.cfg listing the plugins and their order (default: the one shipped with tsdns; env TSDNS_PLUGIN_CFG)' },
  {
    name: 'workers',
    kind: 'string',
    usage: 'Processes serving on the same sockets: a number, or auto for one per CPU (cgroup limit included)',
    default: '1',
    check: checkWorkers,
  },
];

/**
 * True in a worker of `-workers N`. The primary forks its workers with
 * TSDNS_WORKER_SLOT set; only then is the cluster module loaded to confirm
 * (the single process starts without it).
 */
async function isClusterWorker(): Promise<boolean> {
  if (process.env.TSDNS_WORKER_SLOT === undefined) return false;
  return (await import('node:cluster')).default.isWorker;
}

export async function main(argv: string[]): Promise<void> {
  const isWorker = await isClusterWorker();
  let flags;
  try {
    flags = parseFlags(argv, FLAGS);
  } catch (e) {
    const fe = e as FlagError;
    if (fe.message) process.stderr.write(fe.message + '\n');
    process.stderr.write(usage('tsdns', FLAGS));
    process.exit(fe.exitCode);
  }
  if (flags.rest.length > 0) fatal(`extra command line arguments: [${flags.rest.join(' ')}]`);

  if (flags.bools.has('version') && !isWorker) {
    process.stdout.write(versionText());
    process.exit(0);
  }

  const cfgPath = flags.values.get('plugin.cfg') ?? process.env.TSDNS_PLUGIN_CFG ?? defaultPluginCfgPath();
  let registry: PluginRegistry;
  try {
    registry = loadPluginCfg(resolve(cfgPath));
  } catch (e) {
    fatal((e as Error).message);
  }

  if (flags.bools.has('plugins') && !isWorker) {
    process.stdout.write([...registry.names()].sort().map((n) => n + '\n').join('') + '\n');
    process.exit(0);
  }

  const port = flags.values.get('dns.port') ?? '53';
  const quiet = flags.bools.has('quiet');
  const conf = flags.values.get('conf');
  const pidfile = flags.values.get('pidfile');

  buildInfo.labels(VERSION, `tsdns-${TSDNS_VERSION}`, `node${process.versions.node}`).set(1);

  // the modules of -workers N are loaded only when used: the single process starts as fast as before
  if (isWorker) {
    // a worker of `-workers N`: the primary sends the Corefile and the signals
    const { runWorker } = await import('./worker.js');
    runWorker({ registry, port, conf, slot: Number(process.env.TSDNS_WORKER_SLOT ?? '1') });
    return;
  }
  const workers = resolveWorkers(flags.values.get('workers') ?? '1');
  if (workers > 1) {
    await startPrimary({ workers, registry, port, conf, quiet, pidfile });
    return;
  }

  let instance: Instance | undefined;
  let running: Loaded | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const read = (): Loaded => loadCorefile(conf, port);
  // one reload at a time, whoever asks (SIGUSR1 or the reload plugin)
  const reload = (source?: Loaded): Promise<void> => {
    const run = reloading.then(async () => {
      if (!instance) throw new Error('not started');
      const loaded = source ?? read();
      // the configuration being started is built from `loaded` (its start-up hooks may ask)
      const previous = running;
      running = loaded;
      try {
        instance = await instance.restart(async () => buildInput(loaded, registry, port));
      } catch (e) {
        running = previous;
        throw e;
      }
    });
    reloading = run.catch(() => undefined);
    return run;
  };
  // installed before the first start, so that plugins can use it from their start-up hooks
  setProcessReloader({ read, current: () => running ?? read(), reload });

  try {
    let loaded: Loaded;
    try {
      loaded = read();
    } catch (e) {
      throw new Error(`loading Caddyfile via flag: ${(e as Error).message}`);
    }
    running = loaded;
    const first = await Instance.build(buildInput(loaded, registry, port));
    instance = first;
    // zone lines, then the start-up hooks (the reload plugin logs its hash), then the version: CoreDNS's order
    await first.start(undefined, () => {
      if (!quiet) process.stdout.write(first.banner());
    });
  } catch (e) {
    fatal(e instanceof Error ? e.message : String(e));
  }

  if (!quiet) process.stdout.write(versionText());
  // what was left out of the start-up path is loaded once queries are answered
  warmUpLater(preloadLogger);
  if (pidfile) {
    try {
      writeFileSync(pidfile, `${process.pid}\n`, { mode: 0o644 });
    } catch (e) {
      fatal(`could not write pidfile: ${(e as Error).message}`);
    }
  }

  const started = instance;
  const current = (): Instance => instance ?? started;
  installSignals({
    pidfile,
    stop: (signame) => shutdownCallbacks(current(), signame),
    // SIGINT exits once the callbacks ran; SIGTERM also waits (up to 5 s) for the servers to stop
    close: (signame) => (signame === 'SIGTERM' ? current().stopListeners(5000) : Promise.resolve()),
    kill: () => undefined,
    read,
    reload,
  });
}

/**
 * `-workers N`: the Corefile is read and set up here first (parse, plugin
 * setup, zone checks; nothing is started), so that a configuration error
 * exits 1 with its FILE:LINE before any worker is forked.
 */
async function startPrimary(o: { workers: number; registry: PluginRegistry; port: string; conf: string | undefined; quiet: boolean; pidfile: string | undefined }): Promise<void> {
  let loaded: Loaded;
  let banner: string;
  try {
    try {
      loaded = loadCorefile(o.conf, o.port);
    } catch (e) {
      throw new Error(`loading Caddyfile via flag: ${(e as Error).message}`);
    }
    const checked = await Instance.build(buildInput(loaded, o.registry, o.port));
    banner = checked.banner();
  } catch (e) {
    fatal(e instanceof Error ? e.message : String(e));
  }
  const { runPrimary } = await import('./primary.js');
  await runPrimary({ ...o, loaded, banner });
}
