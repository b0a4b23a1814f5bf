/**
 * Go's `time.ParseDuration`, `time.Duration.String()` and
 * `strconv.FormatFloat(x, 'f', -1, 64)`, so that durations in a Corefile are
 * accepted and rejected exactly as CoreDNS does, and printed the same way.
 *
 * Durations are exchanged as milliseconds (a JavaScript number, what timers
 * take); the `...Ns` variants work on exact nanoseconds as a bigint, Go's
 * representation (int64 nanoseconds).
 */

/** A duration string Go's `time.ParseDuration` rejects; `message` is Go's text. */
export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

const NS_PER_MS = 1_000_000n;
const ONE_63 = 1n << 63n;
const MAX_INT64 = ONE_63 - 1n;

const UNITS: ReadonlyMap<string, bigint> = new Map<string, bigint>([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/**
 * Go's `time.quote`: double quotes; `"` and `\` escaped; control and
 * non-ASCII characters written as their UTF-8 bytes in `\xNN` form.
 */
export function goDurationQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80 || c < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Parses a duration as Go's `time.ParseDuration`: an optionally signed
 * sequence of decimal numbers, each with an optional fraction and a unit
 * (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. `300ms`, `-1.5h`, `2h45m`;
 * `0` alone needs no unit. Returns exact nanoseconds. Throws DurationError
 * with Go's message (`time: invalid duration "x"`, `time: missing unit in
 * duration "1"`, `time: unknown unit "d" in duration "1d"`).
 */
export function parseGoDurationNs(str: string): bigint {
  const orig = str;
  const invalid = (): DurationError => new DurationError('time: invalid duration ' + goDurationQuote(orig));
  let s = str;
  let d = 0n;
  let neg = false;
  if (s !== '') {
    const c = s[0];
    if (c === '-' || c === '+') {
      neg = c === '-';
      s = s.slice(1);
    }
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  while (s !== '') {
    let v = 0n;
    let f = 0n;
    let scale = 1;
    // the next character must be [0-9.]
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    // leading integer
    let i = 0;
    for (; i < s.length && isDigit(s[i]); i++) {
      if (v > ONE_63 / 10n) throw invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > ONE_63) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // fraction
    let post = false;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s[j]); j++) {
        if (overflow) continue;
        if (f > (ONE_63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > ONE_63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    // unit
    let u = 0;
    for (; u < s.length; u++) {
      const c = s[u]!;
      if (c === '.' || isDigit(c)) break;
    }
    if (u === 0) throw new DurationError('time: missing unit in duration ' + goDurationQuote(orig));
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS.get(unitName);
    if (unit === undefined) {
      throw new DurationError('time: unknown unit ' + goDurationQuote(unitName) + ' in duration ' + goDurationQuote(orig));
    }
    if (v > ONE_63 / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      // float64 arithmetic, truncated to an integer, as Go does
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > ONE_63) throw invalid();
    }
    d += v;
    if (d > ONE_63) throw invalid();
  }
  if (neg) return -d;
  if (d > MAX_INT64) throw invalid();
  return d;
}

/** `parseGoDurationNs` in milliseconds (fractions of a millisecond kept). */
export function parseGoDuration(s: string): number {
  const ns = parseGoDurationNs(s);
  const whole = ns / NS_PER_MS;
  return Number(whole) + Number(ns - whole * NS_PER_MS) / 1e6;
}

/** Nanoseconds of a millisecond value, rounded and clamped to Go's int64 range. */
export function msToNs(ms: number): bigint {
  if (Number.isNaN(ms)) return 0n;
  if (ms === Infinity) return MAX_INT64;
  if (ms === -Infinity) return -ONE_63;
  const whole = Math.trunc(ms);
  let ns = BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
  if (ns > MAX_INT64) ns = MAX_INT64;
  if (ns < -ONE_63) ns = -ONE_63;
  return ns;
}

/** Go's `fmtFrac`: the fraction v/10^prec without trailing zeros (and no dot if 0). */
function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) text = String(digit) + text;
    v /= 10n;
  }
  if (print) text = '.' + text;
  return { text, rest: v };
}

/**
 * Go's `time.Duration.String()` of exact nanoseconds: `72h3m0.5s`, `5m0s`,
 * `1.5s`, `300ms`, `2µs`, `1ns`, `0s`, `-1m30s`.
 */
export function formatGoDurationNs(ns: bigint): string {
  if (ns > MAX_INT64) ns = MAX_INT64;
  if (ns < -ONE_63) ns = -ONE_63;
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < 1_000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < 1_000_000n) {
      prec = 3;
      unit = '\u00b5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const f = fmtFrac(u, prec);
    out = String(f.rest) + f.text + unit;
  } else {
    const f = fmtFrac(u, 9);
    u = f.rest; // whole seconds
    out = String(u % 60n) + f.text + 's';
    u /= 60n; // minutes
    if (u > 0n) {
      out = String(u % 60n) + 'm' + out;
      u /= 60n; // hours
      if (u > 0n) out = String(u) + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

/** Go's `time.Duration.String()` of a duration given in milliseconds. */
export function formatGoDuration(ms: number): string {
  return formatGoDurationNs(msToNs(ms));
}

/**
 * Go's `Duration.Seconds()` of exact nanoseconds: whole seconds plus the
 * nanosecond remainder divided by 1e9 (two float64 steps, as Go does).
 */
export function goDurationSeconds(ns: bigint): number {
  const sec = ns / 1_000_000_000n;
  const nsec = ns % 1_000_000_000n;
  return Number(sec) + Number(nsec) / 1e9;
}

/**
 * Go's `strconv.FormatFloat(x, 'f', -1, 64)`: the shortest decimal that reads
 * back as `x`, never in exponent form (`0.000123`, `1e-07` is `0.0000001`,
 * `1e21` is `1000000000000000000000`), `NaN`, `+Inf`, `-Inf`, `-0`.
 */
export function formatFloatShortest(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const s = String(x);
  const e = s.indexOf('e');
  if (e === -1) return s;
  // d[.ddd]e±N -> fixed notation
  let mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  let sign = '';
  if (mant[0] === '-') {
    sign = '-';
    mant = mant.slice(1);
  }
  const dot = mant.indexOf('.');
  const digits = dot === -1 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot === -1 ? mant.length : dot) + exp; // digits before the decimal point
  if (intLen <= 0) return sign + '0.' + '0'.repeat(-intLen) + digits;
  if (intLen >= digits.length) return sign + digits + '0'.repeat(intLen - digits.length);
  return sign + digits.slice(0, intLen) + '.' + digits.slice(intLen);
}
