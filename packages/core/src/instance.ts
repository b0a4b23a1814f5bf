/**
 * An Instance is one running configuration: the server blocks after plugin
 * setup, the servers built from them and the listeners they serve on. A
 * reload builds a new Instance that takes over the old one's listening
 * sockets, so no query is refused while the configuration changes.
 */
import { BlockConfig } from './config.js';
import { ConfigError, type InspectedBlock, type ServerBlock } from './corefile-types.js';
import { Controller } from './controller.js';
import { Lifecycle } from './lifecycle.js';
import { log, setDebug } from './log.js';
import type { PluginRegistry } from './registry.js';
import { Server, type ZoneConfig } from './server.js';
import { joinHostPort } from './transport/addr.js';
import { DnsListener, type Listener } from './transport/dns.js';
import { isReverseZone } from './zones-internal.js';

/** Factory for listeners of transports other than dns:// (tls://, https://). */
export type ListenerFactory = (key: string, host: string, port: number, server: Server) => Listener;

const listenerFactories = new Map<string, ListenerFactory>();

/** Registers the listener implementation of a transport (`tls`, `https`, `grpc`, ...). */
export function registerTransport(transport: string, f: ListenerFactory): void {
  listenerFactories.set(transport, f);
}

export interface BuildInput {
  /** Corefile name for messages (`Corefile`, or the -conf path). */
  filename: string;
  blocks: InspectedBlock[];
}

export interface InstanceOptions extends BuildInput {
  registry: PluginRegistry;
}

/** Graceful stop timeout of servers (CoreDNS: 5 s). */
export const GRACE_MS = 5000;

export class Instance {
  readonly filename: string;
  readonly configs: BlockConfig[];
  readonly lifecycle = new Lifecycle();
  readonly registry: PluginRegistry;
  servers: Server[] = [];
  private readonly listeners = new Map<string, Listener>();

  private constructor(opts: InstanceOptions) {
    this.filename = opts.filename;
    this.registry = opts.registry;
    this.configs = opts.blocks.map((b, i) => new BlockConfig(i, b.block, b.addrs));
  }

  /** Runs every plugin's setup (plugin.cfg order × block order) and builds the servers. */
  static async build(opts: InstanceOptions): Promise<Instance> {
    const inst = new Instance(opts);
    await inst.setupPlugins();
    inst.makeServers();
    return inst;
  }

  private async setupPlugins(): Promise<void> {
    for (const dir of this.registry.names()) {
      for (const cfg of this.configs) {
        const tokens = cfg.block.tokens.get(dir);
        if (!tokens || cfg.addrs.length === 0) continue;
        const def = await this.registry.get(dir);
        const c = new Controller(this.filename, dir, tokens, cfg, this.lifecycle);
        try {
          await def.setup(c);
        } catch (e) {
          throw wrapSetupError(dir, c, e);
        }
      }
    }
    for (const cfg of this.configs) cfg.buildChain();
  }

  private makeServers(): void {
    // group every (key, listen host) by transport://host:port
    const groups = new Map<string, ZoneConfig[]>();
    const hostsOf = new Map<string, { transport: string; host: string; port: number }>();
    for (const cfg of this.configs) {
      for (const addr of cfg.addrs) {
        for (const host of cfg.listenHosts) {
          const key = `${addr.transport}://${joinHostPort(host, addr.port)}`;
          let g = groups.get(key);
          if (!g) {
            groups.set(key, (g = []));
            hostsOf.set(key, { transport: addr.transport, host, port: Number(addr.port) });
          }
          g.push({ addr, block: cfg });
        }
      }
    }
    this.validateZones();
    this.servers = [...groups.entries()].map(([addr, configs]) => new Server({ addr, configs }));
    this.groupHosts = hostsOf;
  }

  private groupHosts = new Map<string, { transport: string; host: string; port: number }>();

  /** Duplicate and overlap checks (CoreDNS's validateZonesAndListeningAddresses). */
  private validateZones(): void {
    const registered = new Map<string, string>();
    const unbound = new Map<string, { str: string; address: string }>();
    for (const cfg of this.configs) {
      for (const addr of cfg.addrs) {
        for (const host of cfg.listenHosts) {
          const str = `${addr.transport}://${addr.zone}:${addr.port}${host ? ` on ${host}` : ''}`;
          const k = `${addr.transport}|${addr.zone}|${host}|${addr.port}`;
          const uk = `${addr.transport}|${addr.zone}||${addr.port}`;
          const ustr = `${addr.transport}://${addr.zone}:${addr.port}`;
          const where = locate(cfg.block, this.filename);
          if (cfg.filters.length === 0 && registered.has(k)) {
            throw new ConfigError(`${where}cannot serve ${str} - it is already defined`);
          }
          const already = unbound.get(uk);
          if (already) {
            if (host === '') throw new ConfigError(`${where}cannot serve ${str} - zone overlap listener capacity with ${already.str}`);
            if (registered.has(uk)) throw new ConfigError(`${where}cannot serve ${str} - zone overlap listener capacity with ${ustr}`);
          }
          if (cfg.filters.length === 0) {
            registered.set(k, str);
            unbound.set(uk, { str, address: host });
          }
        }
      }
    }
  }

  /**
   * Starts: startup hooks, then listeners (taking over `previous`'s listeners
   * with the same address), then `listening()`, then startup-complete hooks.
   */
  async start(previous?: Instance, listening?: () => void): Promise<void> {
    let debug = false;
    for (const s of this.servers) if (s.debug) debug = true;
    setDebug(debug);
    if (!previous) await this.lifecycle.run('firstStartup');
    await this.lifecycle.run('startup');
    const created: Listener[] = [];
    try {
      for (const s of this.servers) {
        const reuse = previous?.listeners.get(s.addr);
        if (reuse) {
          this.listeners.set(s.addr, reuse);
          continue;
        }
        const h = this.groupHosts.get(s.addr)!;
        const l = this.makeListener(s, h.transport, h.host, h.port);
        await l.listen();
        created.push(l);
        this.listeners.set(s.addr, l);
      }
    } catch (e) {
      await Promise.all(created.map((l) => l.close(0)));
      this.listeners.clear();
      throw e;
    }
    // swap the servers behind reused listeners only once everything is ready
    for (const s of this.servers) this.listeners.get(s.addr)!.server = s;
    // (the executable prints its zone banner here, before the start-up-complete hooks, as CoreDNS does)
    listening?.();
    await this.lifecycle.run('startupComplete');
  }

  private makeListener(s: Server, transport: string, host: string, port: number): Listener {
    if (transport === 'dns') return new DnsListener(s.addr, host, port, s);
    const f = listenerFactories.get(transport);
    if (!f) throw new Error(`Listen: transport ${transport}:// is not supported by this build`);
    return f(s.addr, host, port, s);
  }

  /** The zone lines CoreDNS prints at start (`.:53`, `example.org.:1053 on 127.0.0.1`). */
  banner(): string {
    let out = '';
    for (const s of this.servers) {
      const sep = s.addr.indexOf('://');
      const transport = s.addr.slice(0, sep);
      const h = this.groupHosts.get(s.addr)!;
      const proto = transport === 'dns' ? '' : `${transport}://`;
      for (const zone of s.zoneNames()) {
        if (!checkZoneSyntax(zone)) out += `Warning: Domain ${JSON.stringify(zone)} does not follow RFC1035 preferred syntax\n`;
        out += h.host === '' ? `${proto}${zone}:${h.port}\n` : `${proto}${zone}:${h.port} on ${h.host}\n`;
      }
    }
    return out;
  }

  /** Addresses actually bound (with port 0 the kernel picks). */
  boundAddresses(): { server: string; transport: string; address: string; port: number }[] {
    const out: { server: string; transport: string; address: string; port: number }[] = [];
    for (const [key, l] of this.listeners) for (const a of l.addresses()) out.push({ server: key, ...a });
    return out;
  }

  /** Stops the listeners this instance does not share with `keep` (graceful, at most graceMs). */
  async stopListeners(graceMs: number, keep?: Instance): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, l] of this.listeners) {
      if (keep && keep.listeners.get(key) === l) continue;
      closing.push(l.close(graceMs));
    }
    await Promise.all(closing);
  }

  /**
   * Reload: builds and starts a new instance from `load()`, reusing this
   * one's sockets. On success this instance is stopped and the new one is
   * returned; on failure this one keeps serving and the error is thrown.
   */
  async restart(load: () => Promise<InstanceOptions>): Promise<Instance> {
    log.notice('Reloading');
    let next: Instance | undefined;
    try {
      await this.lifecycle.run('restart');
      try {
        next = await Instance.build(await load());
        await next.start(this);
      } catch (e) {
        throw new Error(`starting with listener file descriptors: ${errorText(e)}`);
      }
    } catch (e) {
      for (const err of await this.lifecycle.runAll('restartFailed')) log.error(`Restart failed callback returned error: ${errorText(err)}`);
      log.error(`Restart failed: ${errorText(e)}`);
      throw e;
    }
    await this.stopListeners(GRACE_MS, next);
    await this.lifecycle.run('shutdown');
    log.notice('Reloading complete');
    return next;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function locate(b: ServerBlock, filename: string): string {
  const t = b.keyTokens[0];
  return t ? `${t.file || filename}:${t.line} - ` : '';
}

/**
 * A setup error as CoreDNS prints it, always with a location: CoreDNS's own
 * `plugin/NAME: FILE:LINE - Error during parsing: ...` when the plugin raised a
 * located error; otherwise CoreDNS's text (`plugin/NAME: ...`) with the
 * current token's `FILE:LINE - ` in front.
 */
function wrapSetupError(dir: string, c: Controller, e: unknown): ConfigError {
  let msg = errorText(e);
  if (!msg.startsWith('plugin/')) msg = `plugin/${dir}: ${msg}`;
  const located = /^plugin\/[^:]+: \S+:\d+ - /.test(msg);
  if (located) return new ConfigError(msg, e instanceof ConfigError ? e.file : c.file(), e instanceof ConfigError ? e.line : c.line());
  const line = c.line() || c.firstLine();
  return new ConfigError(`${c.file()}:${line} - ${msg}`, c.file(), line);
}

function checkZoneSyntax(zone: string): boolean {
  if (zone === '.' || isReverseZone(zone)) return true;
  return /^(([A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?)\.)+$/.test(zone);
}
