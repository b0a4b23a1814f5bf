/**
 * gathersrv's directive:
 *
 *     gathersrv DISTRIBUTED_DOMAIN {
 *         CLUSTER_DOMAIN HOSTNAME_PREFIX
 *         ...
 *         timeout DURATION
 *         max_fails N
 *     }
 *
 * Errors are gathersrv's (`Provided incorrect domain <X>`, `You have to
 * provide at least one cluster definition.`, argument-count errors); the
 * server prefixes them with `Corefile:LINE - plugin/gathersrv: `.
 */
import { normalizeName, parseGoDuration, type Controller } from '@tsdns/core';
import { GatherSrv, type Cluster, type GatherSrvOptions } from './gathersrv.js';

/** gathersrv's parseDomain: a name ending with a dot, normalised; '' otherwise. */
export function parseDomain(raw: string): string {
  return raw.endsWith('.') ? normalizeName(raw) : '';
}

/** Reads every `gathersrv` directive of a server block (one handler each). */
export function parseGathersrv(c: Controller): GatherSrvOptions[] {
  const out: GatherSrvOptions[] = [];
  while (c.next()) {
    if (!c.nextArg()) throw c.argErr();
    const domain = parseDomain(c.val());
    if (domain === '') throw new Error(`Provided incorrect domain <${c.val()}>`);
    const clusters: Cluster[] = [];
    const opts: GatherSrvOptions = { domain, clusters };
    while (c.nextBlock()) {
      const key = c.val();
      if (key === 'timeout') {
        const args = c.remainingArgs();
        if (args.length !== 1) throw c.argErr();
        let ms: number;
        try {
          ms = parseGoDuration(args[0]!);
        } catch {
          throw c.err(`invalid timeout: ${JSON.stringify(args[0])}`);
        }
        if (!(ms > 0)) throw c.err(`timeout must be positive: ${JSON.stringify(args[0])}`);
        opts.timeoutMs = ms;
        continue;
      }
      if (key === 'max_fails') {
        const args = c.remainingArgs();
        if (args.length !== 1) throw c.argErr();
        const n = /^\d+$/.test(args[0]!) ? Number(args[0]) : NaN;
        if (!Number.isSafeInteger(n)) throw c.err(`max_fails must be a non-negative integer: ${JSON.stringify(args[0])}`);
        opts.maxFails = n;
        continue;
      }
      const suffix = parseDomain(key);
      if (suffix === '') throw new Error(`Provided incorrect domain <${key}>`);
      if (!c.nextArg()) throw c.argErr();
      const prefix = c.val();
      if (c.nextArg()) throw c.argErr();
      clusters.push({ suffix, prefix });
    }
    if (c.nextArg()) throw c.argErr();
    if (clusters.length === 0) throw new Error('You have to provide at least one cluster definition.');
    out.push(opts);
  }
  return out;
}

/** The directive's setup: one handler per `gathersrv` line, chained in Corefile order. */
export function setup(c: Controller): void {
  for (const opts of parseGathersrv(c)) {
    const h = new GatherSrv(opts);
    c.onStartup(() => h.onStartup());
    c.onShutdown(() => h.onShutdown());
    c.addPlugin((next) => {
      h.next = next;
      return h;
    });
  }
}
