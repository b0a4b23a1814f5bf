/**
 * The `tsdns` executable: CoreDNS's command line, Corefile loading, start-up
 * banner, pidfile and signals.
 */
import { existsSync, readFileSync, readSync, unlinkSync, writeFileSync, fstatSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  buildInfo,
  Instance,
  preloadLogger,
  setProcessReloader,
  log,
  VERSION,
  type InspectedBlock,
  type InstanceOptions,
  type PluginRegistry,
} from '@tsdns/core';
import { decodeUtf8AsGo, defaultCorefile, inspectServerBlocks, parseCorefile } from '@tsdns/corefile';
import { FlagError, parseFlags, usage, type FlagDef } from './flags.js';
import { defaultPluginCfgPath, loadPluginCfg } from './plugincfg.js';
import { TSDNS_VERSION } from './version.js';

const FLAGS: FlagDef[] = [
  { name: 'conf', kind: 'string', usage: 'Corefile to load (default "Corefile")' },
  { name: 'dns.port', kind: 'string', usage: 'Default port', default: '53' },
  { name: 'p', kind: 'string', usage: 'Default port', default: '53', aliasOf: 'dns.port' },
  { name: 'pidfile', kind: 'string', usage: 'Path to write pid file' },
  { name: 'plugins', kind: 'bool', usage: 'List installed plugins' },
  { name: 'quiet', kind: 'bool', usage: 'Quiet mode (no initialization output)' },
  { name: 'version', kind: 'bool', usage: 'Show version' },
  { name: 'plugin.cfg', kind: 'string', usage: 'plugin.cfg listing the plugins and their order (default: the one shipped with tsdns; env TSDNS_PLUGIN_CFG)' },
];

/** `linux/amd64, node20.20.2, tsdns-0.1.0` — the second version line. */
function releaseString(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return `${process.platform}/${arch}, node${process.versions.node}, tsdns-${TSDNS_VERSION}`;
}

function versionText(): string {
  return `CoreDNS-${VERSION}\n${releaseString()}\n`;
}

/** Go's log.Fatal at start: the message on stderr, exit status 1. */
function fatal(msg: string): never {
  process.stderr.write(msg + '\n');
  process.exit(1);
}

interface Loaded {
  text: string;
  filename: string;
}

function readStdinIfPipe(): string | undefined {
  try {
    // Only bigint stats and plain reads here: a regular fstat of a pipe (also done
    // by readFileSync(0)) leaves FIFO bits in Node 20's shared stat buffer, which
    // then breaks module resolution of the plugins imported afterwards.
    const st = fstatSync(0, { bigint: true });
    if (st.isCharacterDevice()) return undefined;
    const chunks: Buffer[] = [];
    for (;;) {
      const b = Buffer.allocUnsafe(65536);
      let n: number;
      try {
        n = readSync(0, b, 0, b.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) break;
      chunks.push(b.subarray(0, n));
    }
    return decodeUtf8AsGo(Buffer.concat(chunks));
  } catch {
    return undefined;
  }
}

/** Where the Corefile comes from: -conf FILE | stdin, ./Corefile, or the built-in default. */
function loadCorefile(conf: string | undefined, port: string): Loaded {
  if (conf) {
    if (conf === 'stdin') {
      const t = readStdinIfPipe();
      if (t !== undefined) return { text: t, filename: '/dev/stdin' };
    } else {
      try {
        return { text: decodeUtf8AsGo(readFileSync(conf)), filename: conf };
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
        throw new Error(`open ${conf}: ${why}`);
      }
    }
  }
  if (existsSync('Corefile')) return { text: decodeUtf8AsGo(readFileSync('Corefile')), filename: 'Corefile' };
  return { text: defaultCorefile(port), filename: 'Corefile' };
}

function buildInput(loaded: Loaded, registry: PluginRegistry, port: string): InstanceOptions {
  const validDirectives = new Set(registry.names());
  const warn = (m: string): void => log.warning(m);
  let blocks = parseCorefile(loaded.text, { filename: loaded.filename, validDirectives, warn });
  let filename = loaded.filename;
  if (blocks.length === 0) {
    filename = 'Corefile';
    blocks = parseCorefile(defaultCorefile(port), { filename, validDirectives, warn });
  }
  const inspected: InspectedBlock[] = inspectServerBlocks(blocks, { defaultPort: port });
  return { filename, blocks: inspected, registry };
}

export async function main(argv: string[]): Promise<void> {
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

  if (flags.bools.has('version')) {
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

  if (flags.bools.has('plugins')) {
    process.stdout.write([...registry.names()].sort().map((n) => n + '\n').join('') + '\n');
    process.exit(0);
  }

  const port = flags.values.get('dns.port') ?? '53';
  const quiet = flags.bools.has('quiet');
  const conf = flags.values.get('conf');
  const pidfile = flags.values.get('pidfile');

  buildInfo.labels(VERSION, `tsdns-${TSDNS_VERSION}`, `node${process.versions.node}`).set(1);

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
  // what was left out of the start-up path is loaded now that queries are answered
  setImmediate(preloadLogger);
  if (pidfile) {
    try {
      writeFileSync(pidfile, `${process.pid}\n`, { mode: 0o644 });
    } catch (e) {
      fatal(`could not write pidfile: ${(e as Error).message}`);
    }
  }

  const started = instance;
  installSignals({ current: () => instance ?? started, read, reload, pidfile });
}

interface SignalState {
  current(): Instance;
  read(): Loaded;
  reload(source: Loaded): Promise<void>;
  pidfile: string | undefined;
}

function removePidfile(pidfile: string | undefined): void {
  if (!pidfile) return;
  try {
    unlinkSync(pidfile);
  } catch {
    // already gone
  }
}

async function shutdownCallbacks(state: SignalState, signame: string): Promise<number> {
  const inst = state.current();
  const errs = [...(await inst.lifecycle.runAll('shutdown')), ...(await inst.lifecycle.runAll('finalShutdown'))];
  for (const e of errs) log.error(`${signame} shutdown: ${e instanceof Error ? e.message : String(e)}`);
  return errs.length > 0 ? 4 : 0;
}

function installSignals(state: SignalState): void {
  let sigints = 0;

  process.on('SIGINT', () => {
    if (sigints++ > 0) {
      log.info('SIGINT: Force quit');
      removePidfile(state.pidfile);
      process.exit(2);
    }
    log.info('SIGINT: Shutting down');
    removePidfile(state.pidfile);
    void shutdownCallbacks(state, 'SIGINT').then((code) => process.exit(code));
  });

  process.on('SIGTERM', () => {
    log.info('SIGTERM: Shutting down servers then terminating');
    void (async () => {
      const code = await shutdownCallbacks(state, 'SIGTERM');
      removePidfile(state.pidfile);
      await state.current().stopListeners(5000);
      process.exit(code);
    })();
  });

  process.on('SIGQUIT', () => {
    log.info('SIGQUIT: Quitting process immediately');
    removePidfile(state.pidfile);
    process.exit(0);
  });

  process.on('SIGHUP', () => {
    // ignored, as in CoreDNS
  });

  process.on('SIGUSR1', () => {
    log.info('SIGUSR1: Reloading');
    let loaded: Loaded;
    try {
      loaded = state.read();
    } catch (e) {
      log.error(`SIGUSR1: loading updated Caddyfile: loading Caddyfile via flag: ${(e as Error).message}`);
      return;
    }
    state.reload(loaded).catch((e: unknown) => log.error(`SIGUSR1: ${e instanceof Error ? e.message : String(e)}`));
  });
}
