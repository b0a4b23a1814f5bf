/**
 * Parsing of the `forward` directive (CoreDNS's plugin/forward/setup.go):
 * every option, its default and its error text. Each `forward` line of a
 * block becomes one Forward; they are chained in Corefile order.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import tls from 'node:tls';
import {
  ConfigError,
  DurationError,
  formatGoDurationNs,
  goQuote,
  isDomainName,
  normalizeHostExact,
  normalizeName,
  parseGoDurationNs,
  parseTransport,
  type Controller,
  type Logger,
} from '@tsdns/core';
import type { TlsSettings } from './conn.js';
import { Forward } from './forward.js';
import { goOpenError, isIP, splitHostPort, splitZone } from './hostport.js';
import { policyByName } from './policy.js';
import { Proxy, type UpstreamProtocol } from './proxy.js';
import { classifyToAddrs, expandAndDedup } from './resolve.js';

/** Most TO entries one forward accepts. */
export const MAX_UPSTREAMS = 15;

const NS_PER_MS = 1_000_000n;

/** A setup error without a Corefile location (`plugin/forward: <text>`). */
function plain(msg: string): ConfigError {
  return new ConfigError(`plugin/forward: ${msg}`);
}

/** miekg's StringToRcode (RcodeToString reversed, plus NOTIMPL; no BADVERS). */
const STRING_TO_RCODE: Readonly<Record<string, number>> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, NOTIMPL: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8,
  NOTAUTH: 9, NOTZONE: 10, DSOTYPENI: 11, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20, BADALG: 21,
  BADTRUNC: 22, BADCOOKIE: 23,
};

/** strconv.ParseUint(s, 10, 32). */
function parseUint32(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw plain(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 0xffffffffn) throw plain(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** strconv.Atoi (64-bit). */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw plain(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) throw plain(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** time.ParseDuration, in nanoseconds. */
function duration(s: string): bigint {
  try {
    return parseGoDurationNs(s);
  } catch (e) {
    if (e instanceof DurationError) throw plain(e.message);
    throw e;
  }
}

function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/** TLS material of the `tls` option (pkg/tls NewTLSConfigFromArgs). */
interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function readOrThrow(file: string, wrap: (why: string) => string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw plain(wrap(goOpenError(file, e as NodeJS.ErrnoException)));
  }
}

function tlsMaterial(args: string[]): TlsMaterial {
  const m: TlsMaterial = {};
  if (args.length >= 2) {
    m.cert = readOrThrow(args[0]!, (w) => `could not load TLS cert: ${w}`);
    m.key = readOrThrow(args[1]!, (w) => `could not load TLS cert: ${w}`);
    try {
      tls.createSecureContext({ cert: m.cert, key: m.key });
    } catch (e) {
      throw plain(`could not load TLS cert: tls: ${(e as Error).message}`);
    }
  }
  const caPath = args.length === 1 ? args[0] : args.length === 3 ? args[2] : undefined;
  if (caPath !== undefined) {
    m.ca = readOrThrow(caPath, (w) => `error reading ${caPath}: ${w}`);
    let ok = m.ca.includes('-----BEGIN CERTIFICATE-----');
    if (ok) {
      try {
        tls.createSecureContext({ ca: m.ca });
      } catch {
        ok = false;
      }
    }
    if (!ok) throw plain('could not read root certs: %!s(<nil>)');
  }
  return m;
}

/** Parses one `forward FROM TO... { ... }` occurrence. */
async function parseStanza(c: Controller, log: Logger): Promise<Forward> {
  const f = new Forward();
  if (!c.nextArg()) throw c.argErr();
  const origFrom = c.val();
  const zones = normalizeHostExact(origFrom);
  if (zones.length === 0) throw plain(`unable to normalize '${origFrom}'`);
  f.from = zones[0]!;
  if (zones.length > 1) log.warning(`Unsupported CIDR notation: '${origFrom}' expands to multiple zones. Using only '${f.from}'.`);

  const to = c.remainingArgs();
  if (to.length === 0) throw c.argErr();

  let material: TlsMaterial = {};
  while (c.nextBlock()) {
    const m = parseBlock(c, f);
    if (m !== undefined) material = m;
  }

  if (f.maxAge > 0 && f.maxAge < f.expire) {
    throw plain(`max_age (${formatGoDurationNs(BigInt(Math.round(f.maxAge * 1e6)))}) must not be less than expire (${formatGoDurationNs(BigInt(Math.round(f.expire * 1e6)))})`);
  }

  for (const addr of to) {
    const { transport, rest } = parseTransport(addr);
    if (transport === 'https' && rest.includes('/')) {
      throw plain(`paths are not allowed in HTTPS upstream addresses (the /dns-query path is used by default): ${addr}`);
    }
  }

  let toHosts: string[];
  try {
    const entries = classifyToAddrs(to);
    f.toEntries = entries.length;
    toHosts = await expandAndDedup(entries, f.resolver);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw plain((e as Error).message);
  }
  if (toHosts.length === 0) throw plain('no valid upstream addresses found');

  const parsed: { h: string; trans: UpstreamProtocol; serverName: string }[] = [];
  for (const hostWithZone of toHosts) {
    const { host, zone: serverName } = splitZone(hostWithZone);
    const { transport: trans, rest: h } = parseTransport(host);
    if (trans !== 'dns' && trans !== 'tls' && trans !== 'https') {
      throw plain(`'${trans}' is not supported as a destination protocol in forward: ${host}`);
    }
    if (trans === 'tls' && serverName !== '' && f.tlsServerName !== '') {
      throw plain(`both forward ('${f.tlsServerName}') and proxy level ('${serverName}') TLS servernames are set for upstream proxy '${host}'`);
    }
    parsed.push({ h, trans, serverName: trans === 'tls' ? serverName : '' });
  }

  // One secure context for the whole forward; SNI per upstream name (or tls_servername).
  let secureContext: tls.SecureContext | undefined;
  const settings = new Map<string, TlsSettings>();
  const tlsFor = (serverName: string): TlsSettings => {
    secureContext ??= tls.createSecureContext({ ...material, minVersion: 'TLSv1.2' });
    const name = f.tlsServerName !== '' ? f.tlsServerName : serverName;
    let s = settings.get(name);
    if (s === undefined) {
      s = { secureContext, servername: name === '' ? undefined : name };
      settings.set(name, s);
    }
    return s;
  };

  for (const p of parsed) {
    const tlsSettings = p.trans === 'dns' ? undefined : tlsFor(p.trans === 'tls' ? p.serverName : '');
    const proxy = new Proxy('forward', p.h, p.trans, { tls: tlsSettings, dohMethod: f.dohMethod, localAddress: f.sourceAddress });
    proxy.pool.expire = f.expire;
    proxy.pool.maxAge = f.maxAge;
    proxy.pool.maxIdleConns = f.maxIdleConns;
    proxy.readTimeout = f.readTimeout;
    proxy.health.recursionDesired = f.opts.hcRecursionDesired;
    if (f.opts.forceTcp && p.trans !== 'tls') proxy.health.setTcpTransport();
    proxy.health.domain = f.opts.hcDomain;
    f.proxies.push(proxy);
  }
  return f;
}

/** Applies one block option to `f`; returns the TLS material of a `tls` line. */
function parseBlock(c: Controller, f: Forward): TlsMaterial | undefined {
  const needArg = (): string => {
    if (!c.nextArg()) throw c.argErr();
    return c.val();
  };
  switch (c.val()) {
    case 'except': {
      const ignore = c.remainingArgs();
      if (ignore.length === 0) throw c.argErr();
      for (const i of ignore) f.ignored.push(...normalizeHostExact(i));
      return undefined;
    }
    case 'max_fails':
      f.maxfails = parseUint32(needArg());
      return undefined;
    case 'max_connect_attempts':
      f.maxConnectAttempts = parseUint32(needArg());
      f.maxConnectAttemptsSet = true;
      return undefined;
    case 'health_check': {
      const ns = duration(needArg());
      if (ns < 0n) throw plain(`health_check can't be negative: ${ns}`);
      f.hcInterval = nsToMs(ns);
      f.opts.hcDomain = '.';
      while (c.nextArg()) {
        const opt = c.val();
        if (opt === 'no_rec') f.opts.hcRecursionDesired = false;
        else if (opt === 'domain') {
          const d = needArg();
          if (!isDomainName(d)) throw plain(`health_check: invalid domain name ${d}`);
          f.opts.hcDomain = normalizeName(d);
        } else throw plain(`health_check: unknown option ${opt}`);
      }
      return undefined;
    }
    case 'force_tcp':
      if (c.nextArg()) throw c.argErr();
      f.opts.forceTcp = true;
      return undefined;
    case 'prefer_udp':
      if (c.nextArg()) throw c.argErr();
      f.opts.preferUdp = true;
      return undefined;
    case 'tls': {
      const args = c.remainingArgs();
      if (args.length > 3) throw c.argErr();
      const root = c.config.root;
      return tlsMaterial(args.map((a) => (!isAbsolute(a) && root !== '' ? join(root, a) : a)));
    }
    case 'tls_servername':
      f.tlsServerName = needArg();
      return undefined;
    case 'expire': {
      const ns = duration(needArg());
      if (ns < 0n) throw plain(`expire can't be negative: ${formatGoDurationNs(ns)}`);
      f.expire = nsToMs(ns);
      return undefined;
    }
    case 'max_age': {
      const ns = duration(needArg());
      if (ns < 0n) throw plain(`max_age can't be negative: ${formatGoDurationNs(ns)}`);
      f.maxAge = nsToMs(ns);
      return undefined;
    }
    case 'max_idle_conns': {
      const n = atoi(needArg());
      if (n < 0) throw plain(`max_idle_conns can't be negative: ${n}`);
      f.maxIdleConns = n;
      return undefined;
    }
    case 'read_timeout': {
      const ns = duration(needArg());
      if (ns <= 0n) throw plain(`read_timeout must be positive: ${formatGoDurationNs(ns)}`);
      f.readTimeout = nsToMs(ns);
      return undefined;
    }
    case 'doh_method': {
      const m = needArg();
      if (m !== 'GET' && m !== 'POST') throw plain('doh_method must be either POST or GET');
      f.dohMethod = m;
      return undefined;
    }
    case 'policy': {
      const x = needArg();
      const p = policyByName(x);
      if (p === undefined) throw c.err(`unknown policy '${x}'`);
      f.policy = p;
      return undefined;
    }
    case 'max_concurrent': {
      const v = needArg();
      const n = atoi(v);
      if (n < 0) throw plain(`max_concurrent can't be negative: ${n}`);
      f.errLimitExceeded = `concurrent queries exceeded maximum ${v}`;
      f.maxConcurrent = n;
      return undefined;
    }
    case 'next': {
      const args = c.remainingArgs();
      if (args.length === 0) throw c.argErr();
      for (const a of args) {
        const rc = STRING_TO_RCODE[a.toUpperCase()];
        if (rc === undefined) throw plain(`${a} is not a valid rcode`);
        f.nextAlternateRcodes.push(rc);
      }
      return undefined;
    }
    case 'next_on_nodata':
      if (c.nextArg()) throw c.argErr();
      f.nextOnNodata = true;
      return undefined;
    case 'failfast_all_unhealthy_upstreams':
      if (c.remainingArgs().length !== 0) throw c.argErr();
      f.failfastUnhealthyUpstreams = true;
      return undefined;
    case 'failover': {
      const args = c.remainingArgs();
      if (args.length === 0) throw c.argErr();
      for (const a of args) {
        const rc = STRING_TO_RCODE[a.toUpperCase()];
        if (rc === undefined) throw plain(`${a} is not a valid rcode`);
        if (rc === 0) throw plain('NoError cannot be used in failover');
        f.failoverRcodes.push(rc);
      }
      return undefined;
    }
    case 'resolver': {
      const args = c.remainingArgs();
      if (args.length === 0) throw c.argErr();
      for (const a of args) {
        const sp = splitHostPort(a);
        const host = 'err' in sp ? a : sp.host;
        if (!isIP(host)) throw plain(`resolver must be an IP address or IP:port: ${goQuote(a)}`);
      }
      f.resolver = args;
      return undefined;
    }
    case 'source_address': {
      const v = needArg();
      if (!isIP(v)) throw c.err(`invalid IP address: ${v}`);
      f.sourceAddress = v.toLowerCase().startsWith('::ffff:') && isIP(v.slice(7)) && v.slice(7).includes('.') ? v.slice(7) : v;
      return undefined;
    }
    default:
      throw c.err(`unknown property '${c.val()}'`);
  }
}

/** Parses every `forward` occurrence of the block, in order. */
export async function parseForward(c: Controller): Promise<Forward[]> {
  const fs: Forward[] = [];
  while (c.next()) fs.push(await parseStanza(c, c.log));
  return fs;
}

/** The plugin's setup: parse, chain the instances, hook start and stop. */
export async function setup(c: Controller): Promise<void> {
  const fs = await parseForward(c);
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i]!;
    if (f.toEntries > MAX_UPSTREAMS) throw plain(`more than ${MAX_UPSTREAMS} TOs configured: ${f.toEntries}`);
  }
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i]!;
    if (i === fs.length - 1) {
      c.addPlugin((next) => {
        f.next = next;
        return f;
      });
    } else {
      const nextForward = fs[i + 1]!;
      c.addPlugin(() => {
        f.next = nextForward;
        return f;
      });
    }
    c.onStartup(() => f.onStartup());
    c.onShutdown(() => f.onShutdown());
  }
}
