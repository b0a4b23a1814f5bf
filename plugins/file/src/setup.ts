/**
 * The `file` directive (CoreDNS plugin/file setup.go): every `file` line of a
 * server block, its zones read at setup, its options and error texts, and
 * the reload timers.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import {
  DurationError,
  formatGoDurationNs,
  goQuote,
  normalizeHostExact,
  originsFromArgsOrServerBlock,
  parseGoDurationNs,
  type Controller,
} from '@tsdns/core';
import { goErrno } from './errors.js';
import { File, type Zones } from './file.js';
import { reloadZone } from './reload.js';
import { Zone, cleanPath, parseZone } from './zone.js';

const NS_PER_MS = 1_000_000n;

export interface FileConfig {
  zones: Zones;
  /** Fallthrough zones ([] = none). */
  fall: string[];
}

/** Reads every `file` line of the block (CoreDNS fileParse). */
export function fileParse(c: Controller): FileConfig {
  const z = new Map<string, Zone>();
  const names: string[] = [];
  let fall: string[] = [];
  let reloadNs = 60_000_000_000n; // 1m
  let reloadByMtime = false;
  const openErrs: string[] = [];

  while (c.next()) {
    if (!c.nextArg()) throw c.argErr();
    let fileName = c.val();
    const origins = originsFromArgsOrServerBlock(c.remainingArgs(), c.keys);
    if (!isAbsolute(fileName) && c.config.root !== '') fileName = join(c.config.root, fileName);
    const clean = cleanPath(fileName);

    let data: Buffer | undefined;
    let mtimeMs = 0;
    try {
      data = readFileSync(clean);
      mtimeMs = statSync(clean).mtimeMs;
    } catch (e) {
      data = undefined;
      openErrs.push(`open ${clean}: ${goErrno(e)}`);
    }

    for (const origin of origins) {
      let zone = new Zone(origin, fileName);
      if (data !== undefined) {
        zone = parseZone(data, origin, fileName);
        zone.mtimeMs = mtimeMs;
      }
      z.set(origin, zone);
      names.push(origin);
    }

    while (c.nextBlock()) {
      switch (c.val()) {
        case 'fallthrough': {
          const args = c.remainingArgs();
          fall = [];
          for (const a of args.length === 0 ? ['.'] : args) fall.push(...normalizeHostExact(a));
          break;
        }
        case 'reload': {
          const t = c.remainingArgs();
          if (t.length < 1) throw new Error('reload duration value is expected');
          try {
            reloadNs = parseGoDurationNs(t[0]!);
          } catch (e) {
            if (e instanceof DurationError) throw new Error(`plugin/file: plugin/file: ${e.message}`);
            throw e;
          }
          break;
        }
        case 'reload_by_mtime':
          reloadByMtime = true;
          break;
        case 'upstream':
          // accepted and ignored, as in CoreDNS
          c.remainingArgs();
          break;
        default:
          throw c.err(`unknown property '${c.val()}'`);
      }
    }

    for (const origin of origins) {
      const zone = z.get(origin)!;
      zone.reloadInterval = reloadNs > 0n ? Number(reloadNs / NS_PER_MS) + Number(reloadNs % NS_PER_MS) / 1e6 : 0;
      zone.reloadByMtime = reloadByMtime;
    }
  }

  if (openErrs.length > 0) {
    if (reloadNs === 0n) throw new Error(`plugin/file: plugin/file: ${openErrs[openErrs.length - 1]!}`);
    for (const e of openErrs) c.log.warning(`Failed to open ${goQuote(e)}: trying again in ${formatGoDurationNs(reloadNs)}`);
  }
  return { zones: { z, names }, fall };
}

export function setup(c: Controller): void {
  const cfg = fileParse(c);
  const zones = [...new Set(cfg.zones.z.values())];
  c.onStartup(() => {
    for (const zone of zones) zone.startReload(() => reloadZone(zone).then(() => undefined));
  });
  c.onShutdown(() => {
    for (const zone of zones) zone.stopReload();
  });
  c.addPlugin((next) => new File(next, cfg.zones, cfg.fall));
}
