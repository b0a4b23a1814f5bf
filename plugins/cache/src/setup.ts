/**
 * Parsing of the `cache` directive (CoreDNS's plugin/cache/setup.go): every
 * option, its default, its range check and its error text.
 *
 * CoreDNS's errors come in two kinds: located ones (`c.ArgErr()`), which read
 * `plugin/cache: Corefile:LINE - Error during parsing: ...`, and plain ones
 * (`fmt.Errorf`), which tsdns reports as `Corefile:LINE - plugin/cache: ...`
 * at the current token.
 */
import {
  DurationError,
  goDurationSeconds,
  goQuote,
  goToLower,
  normalizeName,
  originsFromArgsOrServerBlock,
  parseGoDurationNs,
  type Controller,
} from '@tsdns/core';
import { Cache, DENIAL, SUCCESS } from './cache.js';

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const FIVE_MINUTES_NS = 300n * NS_PER_SECOND;
const MAX_UINT32 = 0xffffffffn;

/** A plain CoreDNS error (no location of its own). */
function plain(msg: string): Error {
  return new Error(msg);
}

/** strconv.Atoi (64-bit int): the value, or Go's error text. */
export function atoi(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw plain(`strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) throw plain(`strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  return v;
}

/** strconv.Atoi that reports failure instead of throwing. */
function tryAtoi(s: string): bigint | undefined {
  try {
    return atoi(s);
  } catch {
    return undefined;
  }
}

/** time.ParseDuration (exact nanoseconds) with Go's error text. */
function duration(s: string): bigint {
  try {
    return parseGoDurationNs(s);
  } catch (e) {
    if (e instanceof DurationError) throw plain(e.message);
    throw e;
  }
}

function nsToMs(ns: bigint): number {
  const whole = ns / NS_PER_MS;
  return Number(whole) + Number(ns - whole * NS_PER_MS) / 1e6;
}

/** Go's `%q` of a byte (formatted as the rune with that value, as fmt does for integers). */
function quoteByte(b: number): string {
  let s: string;
  switch (b) {
    case 0x07: s = '\\a'; break;
    case 0x08: s = '\\b'; break;
    case 0x0c: s = '\\f'; break;
    case 0x0a: s = '\\n'; break;
    case 0x0d: s = '\\r'; break;
    case 0x09: s = '\\t'; break;
    case 0x0b: s = '\\v'; break;
    case 0x27: s = "\\'"; break;
    case 0x5c: s = '\\\\'; break;
    default:
      if (b < 0x20 || b === 0x7f) s = '\\x' + b.toString(16).padStart(2, '0');
      else if ((b >= 0x80 && b <= 0xa0) || b === 0xad) s = '\\u' + b.toString(16).padStart(4, '0');
      else s = String.fromCharCode(b);
  }
  return `'${s}'`;
}

function staleTTL(value: string): number {
  let ttl: bigint;
  try {
    ttl = parseGoDurationNs(value);
  } catch (e) {
    throw plain(`invalid serve_stale response TTL: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (ttl < 0n) throw plain('invalid negative response TTL for serve_stale');
  if (ttl % NS_PER_SECOND !== 0n) throw plain('serve_stale response TTL must be a whole number of seconds');
  if (ttl / NS_PER_SECOND > MAX_UINT32) throw plain('serve_stale response TTL exceeds the DNS TTL range');
  return Number(ttl / NS_PER_SECOND);
}

function staleRecheck(value: string): number {
  let recheck: bigint;
  try {
    recheck = parseGoDurationNs(value);
  } catch (e) {
    throw plain(`invalid serve_stale failure recheck: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (recheck < 0n) throw plain('invalid negative failure recheck for serve_stale');
  if (recheck > FIVE_MINUTES_NS) throw plain('serve_stale failure recheck cannot exceed 5 minutes');
  return nsToMs(recheck);
}

/** A TTL in seconds that must be positive (`cache TTL can not be zero or negative: N`). */
function positiveTTL(s: string): number {
  const v = atoi(s);
  if (v <= 0n) throw plain(`cache TTL can not be zero or negative: ${v}`);
  return Number(v);
}

function minTTL(s: string): number {
  const v = atoi(s);
  if (v < 0n) throw plain(`cache min TTL can not be negative: ${v}`);
  return Number(v);
}

/** Parses the `cache` directive of one server block into a configured Cache. */
export function parseCache(c: Controller): Cache {
  const ca = new Cache();
  let j = 0;
  while (c.next()) {
    if (j > 0) throw c.errOnce();
    j++;

    // cache [ttl] [zones..]
    let args = c.remainingArgs();
    if (args.length > 0) {
      // the first argument is the TTL if it is a number, else a zone
      const ttl = tryAtoi(args[0]!);
      if (ttl !== undefined) {
        if (ttl <= 0n) throw plain(`cache TTL can not be zero or negative: ${ttl}`);
        ca.pttl = Number(ttl);
        ca.nttl = Number(ttl);
        args = args.slice(1);
      }
    }
    const origins = originsFromArgsOrServerBlock(args, c.keys);
    let serveStaleConfigured = false;
    let serveStalePolicyConfigured = false;

    while (c.nextBlock()) {
      switch (c.val()) {
        case SUCCESS:
        case DENIAL: {
          const positive = c.val() === SUCCESS;
          const a = c.remainingArgs();
          if (a.length === 0) throw c.argErr();
          const cap = Number(atoi(a[0]!));
          if (positive) ca.pcap = cap;
          else ca.ncap = cap;
          if (a.length > 1) {
            const ttl = positiveTTL(a[1]!);
            if (positive) ca.pttl = ttl;
            else ca.nttl = ttl;
            if (a.length > 2) {
              const min = minTTL(a[2]!);
              if (positive) ca.minpttl = min;
              else ca.minnttl = min;
            }
          }
          break;
        }
        case 'prefetch': {
          const a = c.remainingArgs();
          if (a.length === 0 || a.length > 3) throw c.argErr();
          const amount = atoi(a[0]!);
          if (amount < 0n) throw plain(`prefetch amount should be positive: ${amount}`);
          ca.prefetch = Number(amount);
          if (a.length > 1) ca.duration = nsToMs(duration(a[1]!));
          if (a.length > 2) {
            const bytes = Buffer.from(a[2]!, 'utf8');
            const last = bytes.length > 0 ? bytes[bytes.length - 1]! : 0;
            if (last !== 0x25) throw plain(`last character of percentage should be \`%\`, but is: ${quoteByte(last)}`);
            const num = atoi(bytes.subarray(0, bytes.length - 1).toString('utf8'));
            if (num < 10n || num > 90n) throw plain(`percentage should fall in range [10, 90]: ${num}`);
            ca.percentage = Number(num);
          }
          break;
        }
        case 'serve_stale': {
          serveStaleConfigured = true;
          const a = c.remainingArgs();
          if (a.length > 5) throw c.argErr();
          let upTo = 3600n * NS_PER_SECOND;
          ca.staleTTL = 0;
          ca.staleRecheck = 0;
          if (a.length > 0) {
            upTo = duration(a[0]!);
            if (upTo < 0n) throw plain('invalid negative duration for serve_stale');
          }
          ca.staleUpTo = nsToMs(upTo);
          ca.staleUpToSeconds = Math.trunc(goDurationSeconds(upTo));
          ca.verifyStale = false;
          ca.verifyStaleTimeout = 0;
          if (a.length > 1) {
            const mode = goToLower(a[1]!);
            if (mode !== 'immediate' && mode !== 'verify') throw plain(`invalid value for serve_stale refresh mode: ${mode}`);
            ca.verifyStale = mode === 'verify';
          }
          if (a.length > 2) {
            if (ca.verifyStale) {
              let t: bigint;
              try {
                t = parseGoDurationNs(a[2]!);
              } catch (e) {
                throw plain(`invalid serve_stale verify timeout: ${e instanceof Error ? e.message : String(e)}`);
              }
              if (t < 0n) throw plain('invalid negative timeout for serve_stale verify');
              ca.verifyStaleTimeout = nsToMs(t);
              if (a.length > 3) ca.staleTTL = staleTTL(a[3]!);
              if (a.length > 4) ca.staleRecheck = staleRecheck(a[4]!);
            } else {
              if (a.length > 4) throw c.argErr();
              ca.staleTTL = staleTTL(a[2]!);
              if (a.length > 3) ca.staleRecheck = staleRecheck(a[3]!);
            }
          }
          break;
        }
        case 'serve_stale_policy': {
          if (serveStalePolicyConfigured) throw plain('serve_stale_policy can only be specified once');
          serveStalePolicyConfigured = true;
          const a = c.remainingArgs();
          if (a.length !== 1) throw c.argErr();
          if (goToLower(a[0]!) !== 'prefer_positive') throw plain(`invalid serve_stale_policy: ${a[0]!}`);
          ca.preferPositive = true;
          break;
        }
        case 'servfail': {
          const a = c.remainingArgs();
          if (a.length !== 1) throw c.argErr();
          const d = duration(a[0]!);
          if (d < 0n) throw plain('invalid negative ttl for servfail');
          // RFC 2308 prohibits caching SERVFAIL longer than 5 minutes
          if (d > FIVE_MINUTES_NS) throw plain('caching SERVFAIL responses over 5 minutes is not permitted');
          ca.failttl = goDurationSeconds(d);
          break;
        }
        case 'disable': {
          // disable [success|denial] [zones]...
          const a = c.remainingArgs();
          if (a.length < 1) throw c.argErr();
          let zones: string[];
          if (a.length > 1) {
            zones = [];
            for (const z of a.slice(1)) {
              const nz = normalizeName(z);
              if (nz === '') throw plain(`invalid disabled zone: ${z}`);
              zones.push(nz);
            }
          } else {
            // no zones: the whole cache type
            zones = ['.'];
          }
          if (a[0] === DENIAL) ca.nexcept = zones;
          else if (a[0] === SUCCESS) ca.pexcept = zones;
          else throw plain(`cache type for disable must be "${SUCCESS}" or "${DENIAL}"`);
          break;
        }
        case 'keepttl': {
          const a = c.remainingArgs();
          if (a.length !== 0) throw c.argErr();
          ca.keepttl = true;
          break;
        }
        default:
          throw c.argErr();
      }
    }
    if (serveStalePolicyConfigured && !serveStaleConfigured) throw plain('serve_stale_policy requires serve_stale');

    ca.zones = origins;
    ca.zonesMetricLabel = origins.join(',');
    ca.init();
  }
  return ca;
}

/** The directive's setup: parse, remember the view label at startup, add the handler. */
export function setup(c: Controller): void {
  const ca = parseCache(c);
  c.onStartup(() => {
    ca.viewMetricLabel = c.config.viewName;
  });
  c.addPlugin((next) => {
    ca.next = next;
    return ca;
  });
}
