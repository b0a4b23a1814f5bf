/**
 * Parsing of the `hosts` directive (CoreDNS's plugin/hosts/setup.go): every
 * option, its default and its error text, and the lifecycle (read at start,
 * periodic re-read, stop at shutdown).
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import {
  DurationError,
  goQuote,
  normalizeHostExact,
  originsFromArgsOrServerBlock,
  parseGoDurationNs,
  type Controller,
} from '@tsdns/core';
import { Hosts, Hostsfile, type HostsOptions } from './hosts.js';

const NS_PER_MS = 1_000_000n;

/** Go's text for the errno of a failed stat (the part after `stat PATH: `). */
function goErrno(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EACCES':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EIO':
      return 'input/output error';
    default:
      return e.message;
  }
}

/** strconv.Atoi; undefined when Go would return an error. */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return undefined;
  return Number(v);
}

/** Reads every option of the block's `hosts` directive (once per block). */
export function parseHostsDirective(c: Controller): HostsOptions {
  const o: HostsOptions = {
    path: '/etc/hosts',
    origins: [],
    ttl: 3600,
    autoReverse: true,
    reloadMs: 5000,
    fallthrough: [],
    fallthroughUnsupported: false,
    inline: [],
  };
  const inline: string[] = [];
  let fall: string[] = [];
  let i = 0;
  while (c.next()) {
    if (i > 0) throw c.errOnce();
    i++;
    let args = c.remainingArgs();
    if (args.length >= 1) {
      o.path = args[0]!;
      args = args.slice(1);
      if (!isAbsolute(o.path) && c.config.root !== '') o.path = join(c.config.root, o.path);
      try {
        const st = statSync(o.path);
        if (st.isDirectory()) c.log.warning(`Hosts file ${goQuote(o.path)} is a directory`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'ENOENT') throw c.err(`unable to access hosts file '${o.path}': stat ${o.path}: ${goErrno(err)}`);
        c.log.warning(`File does not exist: ${o.path}`);
      }
    }
    o.origins = originsFromArgsOrServerBlock(args, c.keys);

    while (c.nextBlock()) {
      switch (c.val()) {
        case 'fallthrough': {
          const z = c.remainingArgs();
          fall = [];
          for (const a of z.length === 0 ? ['.'] : z) fall.push(...normalizeHostExact(a));
          break;
        }
        case 'fallthrough_unsupported':
          if (c.remainingArgs().length !== 0) throw c.argErr();
          o.fallthroughUnsupported = true;
          break;
        case 'no_reverse':
          o.autoReverse = false;
          break;
        case 'ttl': {
          const rest = c.remainingArgs();
          if (rest.length < 1) throw c.err('ttl needs a time in second');
          const ttl = atoi(rest[0]!);
          if (ttl === undefined) throw c.err('ttl needs a number of second');
          if (ttl <= 0 || ttl > 65535) throw c.err('ttl provided is invalid');
          o.ttl = ttl;
          break;
        }
        case 'reload': {
          const rest = c.remainingArgs();
          if (rest.length !== 1) throw c.err('reload needs a duration (zero seconds to disable)');
          let ns: bigint;
          try {
            ns = parseGoDurationNs(rest[0]!);
          } catch (e) {
            if (e instanceof DurationError) throw c.err(`invalid duration for reload '${rest[0]!}'`);
            throw e;
          }
          if (ns < 0n) throw c.err(`invalid negative duration for reload '${rest[0]!}'`);
          o.reloadMs = Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
          break;
        }
        default:
          if (fall.length === 0) {
            inline.push([c.val(), ...c.remainingArgs()].join(' '));
            continue;
          }
          throw c.err(`unknown property '${c.val()}'`);
      }
    }
  }
  if (o.fallthroughUnsupported && fall.length === 0) throw c.err('fallthrough_unsupported requires fallthrough');
  o.fallthrough = fall;
  o.inline = inline;
  return o;
}

export function setup(c: Controller): void {
  const o = parseHostsDirective(c);
  const hf = new Hostsfile(o.path, o.origins, o.autoReverse, o.inline);
  let timer: NodeJS.Timeout | undefined;

  c.onStartup(() => hf.readHosts());
  c.onStartupComplete(() => {
    if (o.reloadMs <= 0 || timer) return;
    // a duration below 1 ms behaves like 1 ms (Node's timer resolution)
    timer = setInterval(() => void hf.readHosts(), Math.max(1, o.reloadMs));
    timer.unref();
  });
  c.onShutdown(() => {
    if (timer) clearInterval(timer);
    timer = undefined;
  });

  c.addPlugin((next) => new Hosts(next, hf, o));
}
