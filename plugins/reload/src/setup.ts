/**
 * Parsing of the `reload` directive (CoreDNS's plugin/reload/setup.go) and
 * its hooks. The directive adds no handler.
 */
import { randomInt } from 'node:crypto';
import { DurationError, formatGoDurationNs, parseGoDurationNs, type Controller } from '@tsdns/core';
import { armStarting, dropStarting, instanceStarted, stopAll, stopFor, type ReloadArm } from './reload.js';

export const MIN_INTERVAL_NS = 2_000_000_000n;
export const MIN_JITTER_NS = 1_000_000_000n;
export const DEFAULT_INTERVAL_NS = 30_000_000_000n;
export const DEFAULT_JITTER_NS = 15_000_000_000n;

function duration(s: string): bigint {
  try {
    return parseGoDurationNs(s);
  } catch (e) {
    // CoreDNS returns Go's error without a location
    if (e instanceof DurationError) throw new Error(e.message);
    throw e;
  }
}

/** A uniform random integer in [0, n) (Go's rand.Int63n). */
function randBelow(n: bigint): bigint {
  if (n < 2n ** 48n) return BigInt(randomInt(0, Number(n)));
  return BigInt(Math.floor(Math.random() * Number(n)));
}

export interface ReloadSettings {
  /** INTERVAL in ns. */
  intervalNs: bigint;
  /** JITTER in ns, after clamping to INTERVAL/2. */
  jitterNs: bigint;
}

/** Reads `reload [INTERVAL] [JITTER]` (the first occurrence in the block). */
export function parseReload(c: Controller): ReloadSettings {
  c.next(); // reload
  const args = c.remainingArgs();
  if (args.length > 2) throw c.argErr();
  let i = DEFAULT_INTERVAL_NS;
  if (args.length > 0) i = duration(args[0]!);
  if (i < MIN_INTERVAL_NS) throw new Error(`interval value must be greater or equal to ${formatGoDurationNs(MIN_INTERVAL_NS)}`);
  let j = DEFAULT_JITTER_NS;
  if (args.length > 1) j = duration(args[1]!);
  if (j !== 0n && j < MIN_JITTER_NS) throw new Error(`jitter value must be 0 or greater or equal to ${formatGoDurationNs(MIN_JITTER_NS)}`);
  if (j > 0n && j > i / 2n) j = i / 2n;
  return { intervalNs: i, jitterNs: j };
}

/** The poll period: INTERVAL plus a uniform draw in [-JITTER/2, JITTER/2), in ms. */
export function drawPeriodMs(s: ReloadSettings): number {
  let ns = s.intervalNs;
  if (s.jitterNs > 0n) ns += randBelow(s.jitterNs) - s.jitterNs / 2n;
  return Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
}

export function setup(c: Controller): void {
  const settings = parseReload(c);
  const arm: ReloadArm = { intervalMs: drawPeriodMs(settings), index: c.config.index, block: c.config.block, group: undefined };
  c.onStartup(() => armStarting(arm));
  c.onStartupComplete(() => instanceStarted());
  c.onRestartFailed(() => dropStarting());
  c.onShutdown(() => stopFor(arm));
  c.onFinalShutdown(() => stopAll());
}
