/**
 * Parsing of the `loadbalance` directive (CoreDNS's loadbalance/setup.go),
 * with its error texts, and the lifecycle of the weighted policy.
 */
import { isAbsolute, join } from 'node:path';
import { DurationError, goQuote, parseGoDurationNs, type Controller } from '@tsdns/core';
import { LoadBalance, type ShuffleFunc } from './loadbalance.js';
import { parseGoCIDR, type IPNet } from '@tsdns/core';
import { randomShuffle, reorderPreferredSubnets } from './shuffle.js';
import { WeightedRR } from './weighted.js';

const NS_PER_MS = 1_000_000n;

/** What the directive configures (CoreDNS's lbFuncs). */
export interface LoadBalanceConfig {
  policy: 'round_robin' | 'weighted';
  /** Set for the weighted policy. */
  weighted: WeightedRR | undefined;
  /** `prefer` subnets, in order. */
  prefer: IPNet[];
}

/** Reads every `loadbalance` line of a block; a later line overrides an earlier one as in CoreDNS. */
export function parseLoadBalance(c: Controller): LoadBalanceConfig {
  let lb: LoadBalanceConfig = { policy: 'round_robin', weighted: undefined, prefer: [] };
  while (c.next()) {
    const args = c.remainingArgs();
    if (args.length === 0) {
      lb.policy = 'round_robin';
    } else {
      switch (args[0]) {
        case 'round_robin':
          if (args.length > 1) throw c.err(`unknown property for ${args[0]}`);
          lb.policy = 'round_robin';
          break;
        case 'weighted': {
          if (args.length < 2) throw c.err('missing weight file argument');
          if (args.length > 2) throw c.err('unexpected argument(s)');
          let file = args[1]!;
          if (!isAbsolute(file) && c.config.root !== '') file = join(c.config.root, file);
          let reloadMs = 30_000;
          while (c.nextBlock()) {
            if (c.val() !== 'reload') throw c.err(`unknown property '${c.val()}'`);
            const t = c.remainingArgs();
            if (t.length < 1) throw c.err('reload duration value is missing');
            if (t.length > 1) throw c.err('unexpected argument');
            let ns: bigint;
            try {
              ns = parseGoDurationNs(t[0]!);
            } catch (e) {
              if (e instanceof DurationError) throw c.err(`invalid reload duration '${t[0]!}'`);
              throw e;
            }
            // CoreDNS crashes on a negative period (time.NewTicker panics); refuse it instead
            if (ns < 0n) throw c.err(`invalid reload duration '${t[0]!}'`);
            reloadMs = Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
          }
          // a fresh configuration: what earlier lines set (prefer) is dropped, as in CoreDNS
          lb = { policy: 'weighted', weighted: new WeightedRR(file, reloadMs), prefer: [] };
          break;
        }
        default:
          throw new Error(`unknown policy: ${args[0]!}`);
      }
    }
    while (c.nextBlock()) {
      if (c.val() !== 'prefer') throw c.err(`unknown property '${c.val()}'`);
      for (const cidr of c.remainingArgs()) {
        try {
          lb.prefer.push(parseGoCIDR(cidr));
        } catch (e) {
          throw c.err(`invalid CIDR ${goQuote(cidr)}: ${(e as Error).message}`);
        }
      }
    }
  }
  return lb;
}

export function setup(c: Controller): void {
  const lb = parseLoadBalance(c);
  const w = lb.weighted;
  if (w) {
    c.onStartup(() => w.startup());
    c.onStartupComplete(() => w.startReload());
    c.onShutdown(() => w.stopReload());
  }
  let shuffle: ShuffleFunc = lb.policy === 'weighted' && w ? (m) => w.shuffle(m) : (m) => randomShuffle(m);
  if (lb.prefer.length > 0) {
    const base = shuffle;
    const subnets = lb.prefer;
    shuffle = (m) => reorderPreferredSubnets(base(m), subnets);
  }
  c.addPlugin((next) => new LoadBalance(next, shuffle));
}
