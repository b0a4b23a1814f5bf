/**
 * Go `regexp` (RE2 syntax) patterns for JavaScript: parses a pattern with the
 * rules of Go's `regexp/syntax` (Perl flags, as `regexp.Compile` uses),
 * rejecting what Go rejects with Go's error text, and translates it to an
 * equivalent JavaScript RegExp (flag `u`) for matching.
 *
 * What is translated: `(?flags)` and `(?flags:re)` with i, m, s, U (scoped),
 * `(?P<name>re)` / `(?<name>re)`, `\A`, `\z`, `\b`, `\B`, `\Q...\E`,
 * `\pN` / `\p{Name}` / `\PN` / `\p{^Name}`, `[[:alpha:]]` and the other POSIX
 * classes, ASCII-only `\d \s \w` (and negations), octal and `\x{10FFFF}`
 * escapes, `.` excluding only `\n`, multi-line `^`/`$` seeing only `\n`, and
 * repetition counts up to 1000.
 */

/** A pattern Go's `regexp.Compile` rejects; `message` is Go's error text. */
export class GoRegexpError extends Error {
  readonly code: string;
  readonly expr: string;
  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.name = 'GoRegexpError';
    this.code = code;
    this.expr = expr;
  }
}

/** Go's `syntax.ErrorCode` texts. */
export const GoRegexpErrorCode = {
  InvalidCharClass: 'invalid character class',
  InvalidCharRange: 'invalid character class range',
  InvalidEscape: 'invalid escape sequence',
  InvalidNamedCapture: 'invalid named capture',
  InvalidPerlOp: 'invalid or unsupported Perl syntax',
  InvalidRepeatOp: 'invalid nested repetition operator',
  InvalidRepeatSize: 'invalid repeat count',
  MissingBracket: 'missing closing ]',
  MissingParen: 'missing closing )',
  MissingRepeatArgument: 'missing argument to repetition operator',
  TrailingBackslash: 'trailing backslash at end of expression',
  UnexpectedParen: 'unexpected )',
} as const;
const E = GoRegexpErrorCode;

const MAX_REPEAT = 1000;
const MAX_RUNE = 0x10ffff;

interface Flags {
  fold: boolean;
  dotNL: boolean;
  oneLine: boolean;
  nonGreedy: boolean;
}

type Range = [number, number];

type Node =
  | { t: 'lit'; cp: number; fold: boolean }
  /**
   * `ranges`: characters and ranges as written (case-folded at emission when
   * `fold`); `fixed`: Perl/POSIX groups, already final; `neg` negates it all.
   */
  | { t: 'class'; ranges: Range[]; fixed: Range[]; props: string[]; neg: boolean; fold: boolean }
  | { t: 'any'; nl: boolean }
  | { t: 'bol' | 'eol' | 'bot' | 'eot' | 'wb' | 'nwb' | 'empty' }
  | { t: 'group'; body: Node }
  | { t: 'alt'; alts: Node[] }
  | { t: 'cat'; items: Node[] }
  | { t: 'rep'; sub: Node; min: number; max: number; greedy: boolean };

interface Frame {
  alts: Node[][];
  cur: Node[];
  /** Flags to restore when the group closes. */
  saved: Flags;
}

// ---------------------------------------------------------------------------
// character sets

function normalize(rs: Range[]): Range[] {
  if (rs.length < 2) return rs.slice();
  const s = rs.slice().sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: Range[] = [[s[0]![0], s[0]![1]]];
  for (let i = 1; i < s.length; i++) {
    const [lo, hi] = s[i]!;
    const last = out[out.length - 1]!;
    if (lo <= last[1] + 1) {
      if (hi > last[1]) last[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

function complement(rs: Range[]): Range[] {
  const n = normalize(rs);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of n) {
    if (next <= lo - 1) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

/** Case-fold orbits with members that lower/upper-casing does not reach. */
const EXTRA_ORBITS: readonly number[][] = [
  [0x4b, 0x6b, 0x212a], [0x53, 0x73, 0x17f], [0xc5, 0xe5, 0x212b], [0xb5, 0x39c, 0x3bc], [0xdf, 0x1e9e],
  [0x345, 0x399, 0x3b9, 0x1fbe], [0x392, 0x3b2, 0x3d0], [0x395, 0x3b5, 0x3f5], [0x398, 0x3b8, 0x3d1, 0x3f4],
  [0x39a, 0x3ba, 0x3f0], [0x3a0, 0x3c0, 0x3d6], [0x3a1, 0x3c1, 0x3f1], [0x3a3, 0x3c2, 0x3c3], [0x3a6, 0x3c6, 0x3d5],
  [0x3a9, 0x3c9, 0x2126], [0x1e60, 0x1e61, 0x1e9b],
];

/** True when JavaScript's case-insensitive matching (Unicode simple case folding) treats a and b as equal. */
function foldEqual(a: number, b: number): boolean {
  return new RegExp(`^\\u{${a.toString(16)}}$`, 'iu').test(String.fromCodePoint(b));
}

/**
 * The case variants of `cp` (its simple case-folding orbit, as Go's
 * SimpleFold): candidates from lower/upper-casing and the known extra orbit
 * members, kept when Unicode simple case folding agrees.
 */
function foldVariants(cp: number): number[] {
  const cand = new Set<number>([cp]);
  const add = (s: string): void => {
    const cps = [...s];
    if (cps.length === 1) cand.add(cps[0]!.codePointAt(0)!);
  };
  for (let round = 0; round < 2; round++) {
    for (const c of [...cand]) {
      const s = String.fromCodePoint(c);
      add(s.toLowerCase());
      add(s.toUpperCase());
    }
  }
  for (const orbit of EXTRA_ORBITS) if (orbit.some((c) => cand.has(c))) for (const c of orbit) cand.add(c);
  const out = [cp];
  for (const c of cand) if (c !== cp && foldEqual(cp, c)) out.push(c);
  return out;
}

const FOLD_ITERATION_LIMIT = 0x3000;

/** The set plus the case variants of its members (ASCII exactly; other small ranges member by member). */
function foldRanges(rs: Range[]): Range[] {
  const out: Range[] = rs.slice();
  for (const [lo, hi] of rs) {
    const ulo = Math.max(lo, 0x41);
    const uhi = Math.min(hi, 0x5a);
    if (ulo <= uhi) out.push([ulo + 0x20, uhi + 0x20]);
    const llo = Math.max(lo, 0x61);
    const lhi = Math.min(hi, 0x7a);
    if (llo <= lhi) out.push([llo - 0x20, lhi - 0x20]);
    const has = (c: number): boolean => lo <= c && c <= hi;
    if (has(0x4b) || has(0x6b)) out.push([0x212a, 0x212a]);
    if (has(0x53) || has(0x73)) out.push([0x17f, 0x17f]);
    const nlo = Math.max(lo, 0x80);
    if (nlo <= hi && hi - nlo < FOLD_ITERATION_LIMIT) {
      for (let c = nlo; c <= hi; c++) for (const v of foldVariants(c)) if (v !== c) out.push([v, v]);
    }
  }
  return normalize(out);
}

const PERL_GROUPS: Readonly<Record<string, { neg: boolean; ranges: Range[] }>> = {
  d: { neg: false, ranges: [[0x30, 0x39]] },
  D: { neg: true, ranges: [[0x30, 0x39]] },
  s: { neg: false, ranges: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]] },
  S: { neg: true, ranges: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]] },
  w: { neg: false, ranges: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]] },
  W: { neg: true, ranges: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]] },
};

const POSIX_BASE: Readonly<Record<string, Range[]>> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** A Perl or POSIX group as final ranges: folded first, then negated (as Go's appendGroup). */
function groupRanges(ranges: Range[], neg: boolean, fold: boolean): Range[] {
  const base = fold ? foldRanges(ranges) : normalize(ranges);
  return neg ? complement(base) : base;
}

// ---------------------------------------------------------------------------
// Unicode classes (\p{...}): Go 1.25+ name lookup, mapped to JavaScript properties

/** Go's canonicalName: first letter upper-case, the rest lower-case, `_`, `-` and spaces removed. */
function canonicalName(name: string): string {
  let out = '';
  let first = true;
  for (const ch of name) {
    if (ch === '_' || ch === '-' || ch === ' ') continue;
    if (first) {
      out += ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
      first = false;
    } else out += ch >= 'A' && ch <= 'Z' ? ch.toLowerCase() : ch;
  }
  return out;
}

const CATEGORIES = [
  'C', 'Cc', 'Cf', 'Cn', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
];
const CATEGORY_ALIASES: Readonly<Record<string, string>> = {
  Cased_Letter: 'LC', Close_Punctuation: 'Pe', Combining_Mark: 'M', Connector_Punctuation: 'Pc', Control: 'Cc',
  Currency_Symbol: 'Sc', Dash_Punctuation: 'Pd', Decimal_Number: 'Nd', Enclosing_Mark: 'Me', Final_Punctuation: 'Pf',
  Format: 'Cf', Initial_Punctuation: 'Pi', Letter: 'L', Letter_Number: 'Nl', Line_Separator: 'Zl',
  Lowercase_Letter: 'Ll', Mark: 'M', Math_Symbol: 'Sm', Modifier_Letter: 'Lm', Modifier_Symbol: 'Sk',
  Nonspacing_Mark: 'Mn', Number: 'N', Open_Punctuation: 'Ps', Other: 'C', Other_Letter: 'Lo', Other_Number: 'No',
  Other_Punctuation: 'Po', Other_Symbol: 'So', Paragraph_Separator: 'Zp', Private_Use: 'Co', Punctuation: 'P',
  Separator: 'Z', Space_Separator: 'Zs', Spacing_Mark: 'Mc', Surrogate: 'Cs', Symbol: 'S', Titlecase_Letter: 'Lt',
  Unassigned: 'Cn', Uppercase_Letter: 'Lu', cntrl: 'Cc', digit: 'Nd', punct: 'P',
};
const CANONICAL_PROPS = new Map<string, string>();
for (const c of CATEGORIES) CANONICAL_PROPS.set(canonicalName(c), c);
for (const [alias, c] of Object.entries(CATEGORY_ALIASES)) CANONICAL_PROPS.set(canonicalName(alias), c);
CANONICAL_PROPS.set('Any', 'Any');
CANONICAL_PROPS.set('Assigned', 'Assigned');
CANONICAL_PROPS.set('Ascii', 'ASCII');
CANONICAL_PROPS.set('Lc', 'LC');

function jsAccepts(prop: string): boolean {
  try {
    new RegExp(`\\p{${prop}}`, 'u');
    return true;
  } catch {
    return false;
  }
}

/** The JavaScript property (for `\p{...}`) of a Go class name, or undefined. */
function unicodeProperty(name: string): string | undefined {
  const canon = canonicalName(name);
  const p = CANONICAL_PROPS.get(canon);
  if (p !== undefined) return p;
  if (name === '' || !/^[A-Za-z][A-Za-z0-9_ -]*$/.test(name)) return undefined;
  // scripts: the name as written, or with Go's case-insensitive spelling (`greek` -> `Greek`)
  for (const cand of [name, canon, name.replace(/[ -]/g, '_')]) {
    if (/^[A-Za-z][A-Za-z0-9_]*$/.test(cand) && jsAccepts(`Script=${cand}`)) return `Script=${cand}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// parser

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function isOctal(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x37;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

class Parser {
  private readonly src: string;
  private pos = 0;
  private flags: Flags = { fold: false, dotNL: false, oneLine: true, nonGreedy: false };
  private readonly stack: Frame[];
  /** Literal/class nodes seen with and without case folding (decides the JS `i` flag). */
  foldSeen = false;
  plainSeen = false;

  constructor(src: string) {
    this.src = src;
    this.stack = [{ alts: [], cur: [], saved: { ...this.flags } }];
  }

  private get frame(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private fail(code: string, expr: string): never {
    throw new GoRegexpError(code, expr);
  }

  /** Code point at `i` and its length in UTF-16 units; at the end: U+FFFD and 0 (Go's DecodeRuneInString("")). */
  private rune(i: number): { c: number; n: number } {
    if (i >= this.src.length) return { c: 0xfffd, n: 0 };
    const c = this.src.codePointAt(i)!;
    return { c, n: c > 0xffff ? 2 : 1 };
  }

  private push(n: Node): void {
    this.frame.cur.push(n);
  }

  private literal(cp: number): void {
    if (this.flags.fold) this.foldSeen = true;
    else this.plainSeen = true;
    this.push({ t: 'lit', cp, fold: this.flags.fold });
  }

  /** A class: `ranges` as written, `fixed` groups (already final), `props`; `neg` negates it all. */
  private classNode(ranges: Range[], fixed: Range[], props: string[], neg: boolean): Node {
    if (this.flags.fold) this.foldSeen = true;
    else this.plainSeen = true;
    return { t: 'class', ranges, fixed, props, neg, fold: this.flags.fold };
  }

  parse(): Node {
    const s = this.src;
    let lastRepeat = -1;
    while (this.pos < s.length) {
      let repeat = -1;
      const ch = s[this.pos]!;
      switch (ch) {
        case '(':
          if (s[this.pos + 1] === '?') {
            this.parsePerlFlags();
            break;
          }
          this.stack.push({ alts: [], cur: [], saved: { ...this.flags } });
          this.pos++;
          break;
        case '|':
          this.frame.alts.push(this.frame.cur);
          this.frame.cur = [];
          this.pos++;
          break;
        case ')':
          this.rightParen();
          this.pos++;
          break;
        case '^':
          this.push({ t: this.flags.oneLine ? 'bot' : 'bol' });
          this.pos++;
          break;
        case '$':
          this.push({ t: this.flags.oneLine ? 'eot' : 'eol' });
          this.pos++;
          break;
        case '.':
          this.push({ t: 'any', nl: this.flags.dotNL });
          this.pos++;
          break;
        case '[':
          this.parseClass();
          break;
        case '*':
        case '+':
        case '?': {
          const before = this.pos;
          const [min, max] = ch === '*' ? [0, -1] : ch === '+' ? [1, -1] : [0, 1];
          this.repeat(min, max, false, before, this.pos + 1, lastRepeat);
          repeat = before;
          break;
        }
        case '{': {
          const before = this.pos;
          const r = this.parseRepeat(this.pos);
          if (r === undefined) {
            this.literal(0x7b);
            this.pos++;
            break;
          }
          if (r.min < 0 || r.min > MAX_REPEAT || r.max > MAX_REPEAT || (r.max >= 0 && r.min > r.max)) {
            this.fail(E.InvalidRepeatSize, s.slice(before, r.after));
          }
          this.repeat(r.min, r.max, true, before, r.after, lastRepeat);
          repeat = before;
          break;
        }
        case '\\':
          this.parseBackslash();
          break;
        default: {
          const r = this.rune(this.pos);
          this.literal(r.c);
          this.pos += r.n;
        }
      }
      lastRepeat = repeat;
    }
    if (this.stack.length !== 1) this.fail(E.MissingParen, s);
    return this.finishFrame(this.stack[0]!);
  }

  private finishFrame(f: Frame): Node {
    const alts = [...f.alts, f.cur].map((items): Node => (items.length === 1 ? items[0]! : items.length === 0 ? { t: 'empty' } : { t: 'cat', items }));
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private rightParen(): void {
    if (this.stack.length < 2) this.fail(E.UnexpectedParen, this.src);
    const f = this.stack.pop()!;
    this.flags = f.saved;
    this.push({ t: 'group', body: this.finishFrame(f) });
  }

  private repeat(min: number, max: number, counted: boolean, before: number, afterPos: number, lastRepeat: number): void {
    let after = afterPos;
    let nonGreedy = this.flags.nonGreedy;
    if (this.src[after] === '?') {
      after++;
      nonGreedy = !nonGreedy;
    }
    if (lastRepeat >= 0) this.fail(E.InvalidRepeatOp, this.src.slice(lastRepeat, after));
    const cur = this.frame.cur;
    if (cur.length === 0) this.fail(E.MissingRepeatArgument, this.src.slice(before, after));
    const node: Node = { t: 'rep', sub: cur.pop()!, min, max, greedy: !nonGreedy };
    cur.push(node);
    if (counted && (min >= 2 || max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
      this.fail(E.InvalidRepeatSize, this.src.slice(before, after));
    }
    this.pos = after;
  }

  /** `{n}`, `{n,}`, `{n,m}` at `i`; undefined when it is not one (then `{` is a literal). */
  private parseRepeat(i: number): { min: number; max: number; after: number } | undefined {
    const s = this.src;
    let p = i + 1;
    const int = (): number | undefined => {
      if (p >= s.length || !isDigitAt(s, p)) return undefined;
      if (s[p] === '0' && isDigitAt(s, p + 1)) return undefined; // no leading zeros
      const start = p;
      while (p < s.length && isDigitAt(s, p)) p++;
      let n = 0;
      for (let k = start; k < p; k++) {
        if (n >= 1e8) {
          n = -1;
          break;
        }
        n = n * 10 + (s.charCodeAt(k) - 0x30);
      }
      return n;
    };
    let min = int();
    if (min === undefined) return undefined;
    if (p >= s.length) return undefined;
    let max: number;
    if (s[p] !== ',') max = min;
    else {
      p++;
      if (p >= s.length) return undefined;
      if (s[p] === '}') max = -1;
      else {
        const m = int();
        if (m === undefined) return undefined;
        max = m;
        if (max < 0) min = -1;
      }
    }
    if (p >= s.length || s[p] !== '}') return undefined;
    return { min, max, after: p + 1 };
  }

  private parsePerlFlags(): void {
    const s = this.src;
    const start = this.pos;
    const rest = s.length - start;
    const startsWithP = rest > 4 && s[start + 2] === 'P' && s[start + 3] === '<';
    const startsWithName = rest > 3 && s[start + 2] === '<';
    if (startsWithP || startsWithName) {
      const exprStart = startsWithP ? start + 4 : start + 3;
      const end = s.indexOf('>', start);
      if (end < 0) this.fail(E.InvalidNamedCapture, s.slice(start));
      const name = s.slice(exprStart, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail(E.InvalidNamedCapture, s.slice(start, end + 1));
      this.stack.push({ alts: [], cur: [], saved: { ...this.flags } });
      this.pos = end + 1;
      return;
    }
    const flags = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    let t = start + 2;
    while (t < s.length) {
      const r = this.rune(t);
      t += r.n;
      const c = String.fromCodePoint(r.c);
      if (c === 'i') {
        flags.fold = !negate;
        sawFlag = true;
      } else if (c === 'm') {
        flags.oneLine = negate;
        sawFlag = true;
      } else if (c === 's') {
        flags.dotNL = !negate;
        sawFlag = true;
      } else if (c === 'U') {
        flags.nonGreedy = !negate;
        sawFlag = true;
      } else if (c === '-') {
        if (negate) break;
        negate = true;
        sawFlag = false;
      } else if (c === ':' || c === ')') {
        if (negate && !sawFlag) break;
        if (c === ':') this.stack.push({ alts: [], cur: [], saved: { ...this.flags } });
        this.flags = flags;
        this.pos = t;
        return;
      } else break;
    }
    this.fail(E.InvalidPerlOp, s.slice(start, t));
  }

  private parseBackslash(): void {
    const s = this.src;
    const p = this.pos;
    if (p + 1 < s.length) {
      switch (s[p + 1]) {
        case 'A':
          this.push({ t: 'bot' });
          this.pos += 2;
          return;
        case 'b':
          this.push({ t: 'wb' });
          this.pos += 2;
          return;
        case 'B':
          this.push({ t: 'nwb' });
          this.pos += 2;
          return;
        case 'C':
          this.fail(E.InvalidEscape, s.slice(p, p + 2));
          break;
        case 'Q': {
          const from = p + 2;
          const end = s.indexOf('\\E', from);
          const lit = end < 0 ? s.slice(from) : s.slice(from, end);
          this.pos = end < 0 ? s.length : end + 2;
          for (const ch of lit) this.literal(ch.codePointAt(0)!);
          return;
        }
        case 'z':
          this.push({ t: 'eot' });
          this.pos += 2;
          return;
      }
    }
    if (p + 1 < s.length && (s[p + 1] === 'p' || s[p + 1] === 'P')) {
      const u = this.parseUnicodeClass(p);
      this.push(this.classNode([], [], [u.prop], false));
      this.pos = u.end;
      return;
    }
    const g = p + 1 < s.length && Object.hasOwn(PERL_GROUPS, s[p + 1]!) ? PERL_GROUPS[s[p + 1]!] : undefined;
    if (g !== undefined) {
      this.push(this.classNode([], groupRanges(g.ranges, g.neg, this.flags.fold), [], false));
      this.pos = p + 2;
      return;
    }
    const e = this.parseEscape(p);
    this.literal(e.cp);
    this.pos = e.end;
  }

  /** `\pN`, `\p{Name}`, `\PN`, `\p{^Name}` at `p` (which starts with `\p` or `\P`). */
  private parseUnicodeClass(p: number): { prop: string; end: number } {
    const s = this.src;
    let sign = s[p + 1] === 'P' ? -1 : 1;
    let t = p + 2;
    const r = this.rune(t);
    t += r.n;
    let seq: string;
    let name: string;
    if (r.c !== 0x7b) {
      seq = s.slice(p, t);
      name = seq.slice(2);
    } else {
      const end = s.indexOf('}', p);
      if (end < 0) this.fail(E.InvalidCharRange, s.slice(p));
      seq = s.slice(p, end + 1);
      name = s.slice(p + 3, end);
      t = end + 1;
    }
    if (name.startsWith('^')) {
      sign = -sign;
      name = name.slice(1);
    }
    const prop = unicodeProperty(name);
    if (prop === undefined) this.fail(E.InvalidCharRange, seq);
    return { prop: `${sign > 0 ? '\\p' : '\\P'}{${prop}}`, end: t };
  }

  /** An escape at `p` (a backslash) that stands for one character. */
  private parseEscape(p: number): { cp: number; end: number } {
    const s = this.src;
    let t = p + 1;
    if (t >= s.length) this.fail(E.TrailingBackslash, '');
    const r = this.rune(t);
    t += r.n;
    const c = r.c;
    escape: {
      if (c >= 0x31 && c <= 0x37) {
        // a single non-zero digit would be a backreference: not supported
        if (t >= s.length || !isOctal(s, t)) break escape;
      }
      if (c >= 0x30 && c <= 0x37) {
        let v = c - 0x30;
        for (let i = 1; i < 3; i++) {
          if (t >= s.length || !isOctal(s, t)) break;
          v = v * 8 + (s.charCodeAt(t) - 0x30);
          t++;
        }
        return { cp: v, end: t };
      }
      switch (c) {
        case 0x78: {
          // \x
          if (t >= s.length) break escape;
          let q = this.rune(t);
          t += q.n;
          if (q.c === 0x7b) {
            let nhex = 0;
            let v = 0;
            for (;;) {
              if (t >= s.length) break escape;
              q = this.rune(t);
              t += q.n;
              if (q.c === 0x7d) break;
              const h = unhex(q.c);
              if (h < 0) break escape;
              v = v * 16 + h;
              if (v > MAX_RUNE) break escape;
              nhex++;
            }
            if (nhex === 0) break escape;
            return { cp: v, end: t };
          }
          const x = unhex(q.c);
          q = this.rune(t);
          t += q.n;
          const y = unhex(q.c);
          if (x < 0 || y < 0) break escape;
          return { cp: x * 16 + y, end: t };
        }
        case 0x61:
          return { cp: 0x07, end: t };
        case 0x66:
          return { cp: 0x0c, end: t };
        case 0x6e:
          return { cp: 0x0a, end: t };
        case 0x72:
          return { cp: 0x0d, end: t };
        case 0x74:
          return { cp: 0x09, end: t };
        case 0x76:
          return { cp: 0x0b, end: t };
      }
      // escaped punctuation is always itself
      if (c < 0x80 && !isAlnum(c)) return { cp: c, end: t };
    }
    return this.fail(E.InvalidEscape, s.slice(p, t));
  }

  private parseClass(): void {
    const s = this.src;
    const whole = s.slice(this.pos);
    let t = this.pos + 1;
    let neg = false;
    if (t < s.length && s[t] === '^') {
      neg = true;
      t++;
    }
    const ranges: Range[] = [];
    const fixed: Range[] = [];
    const props: string[] = [];
    const fold = this.flags.fold;
    let first = true;
    while (t >= s.length || s[t] !== ']' || first) {
      first = false;
      // POSIX [:alnum:]
      if (s.length - t > 2 && s[t] === '[' && s[t + 1] === ':') {
        const i = s.indexOf(':]', t + 2);
        if (i >= 0) {
          const name = s.slice(t, i + 2);
          const m = /^\[:(\^?)([a-z]+):\]$/.exec(name);
          const base = m && Object.hasOwn(POSIX_BASE, m[2]!) ? POSIX_BASE[m[2]!] : undefined;
          if (!m || !base) this.fail(E.InvalidCharRange, name);
          fixed.push(...groupRanges(base, m[1] === '^', fold));
          t = i + 2;
          continue;
        }
      }
      // \p{Name}
      if (s[t] === '\\' && (s[t + 1] === 'p' || s[t + 1] === 'P')) {
        const u = this.parseUnicodeClass(t);
        props.push(u.prop);
        t = u.end;
        continue;
      }
      // \d \s \w and negations
      if (s[t] === '\\' && t + 1 < s.length) {
        const g = Object.hasOwn(PERL_GROUPS, s[t + 1]!) ? PERL_GROUPS[s[t + 1]!] : undefined;
        if (g !== undefined) {
          fixed.push(...groupRanges(g.ranges, g.neg, fold));
          t += 2;
          continue;
        }
      }
      // a character or a range
      const rng = t;
      const lo = this.classChar(t, whole);
      t = lo.end;
      let hi = lo.cp;
      if (s.length - t >= 2 && s[t] === '-' && s[t + 1] !== ']') {
        t++;
        const h = this.classChar(t, whole);
        t = h.end;
        hi = h.cp;
        if (hi < lo.cp) this.fail(E.InvalidCharRange, s.slice(rng, t));
      }
      ranges.push([lo.cp, hi]);
    }
    this.pos = t + 1;
    this.push(this.classNode(ranges, fixed, props, neg));
  }

  private classChar(t: number, whole: string): { cp: number; end: number } {
    if (t >= this.src.length) this.fail(E.MissingBracket, whole);
    if (this.src[t] === '\\') return this.parseEscape(t);
    const r = this.rune(t);
    return { cp: r.c, end: t + r.n };
  }
}

/** Go's repeatIsValid: nested counted repetitions may not multiply beyond `n` copies. */
function repeatIsValid(re: Node, n: number): boolean {
  if (re.t === 'rep') {
    let m = re.max;
    if (m === 0) return true;
    if (m < 0) m = re.min;
    if (m > n) return false;
    if (m > 0) n = Math.trunc(n / m);
  }
  switch (re.t) {
    case 'rep':
      return repeatIsValid(re.sub, n);
    case 'group':
      return repeatIsValid(re.body, n);
    case 'alt':
      return re.alts.every((a) => repeatIsValid(a, n));
    case 'cat':
      return re.items.every((a) => repeatIsValid(a, n));
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------
// JavaScript emission (flag `u`)

function escCp(cp: number): string {
  return isAlnum(cp) ? String.fromCharCode(cp) : `\\u{${cp.toString(16)}}`;
}

function emitRanges(rs: Range[]): string {
  let out = '';
  for (const [lo, hi] of rs) out += lo === hi ? escCp(lo) : `${escCp(lo)}-${escCp(hi)}`;
  return out;
}

function emit(n: Node, globalFold: boolean): string {
  switch (n.t) {
    case 'lit':
      if (!n.fold || globalFold) return escCp(n.cp);
      {
        const v = normalize(foldVariants(n.cp).map((c): Range => [c, c]));
        return v.length === 1 && v[0]![0] === v[0]![1] ? escCp(n.cp) : `[${emitRanges(v)}]`;
      }
    case 'class': {
      // with the JS `i` flag JavaScript folds the class itself; otherwise fold it here
      const base = n.fold && !globalFold ? foldRanges(n.ranges) : n.ranges;
      return `[${n.neg ? '^' : ''}${emitRanges(normalize([...base, ...n.fixed]))}${n.props.join('')}]`;
    }
    case 'any':
      return n.nl ? '[^]' : '[^\\n]';
    case 'bol':
      return '(?:^|(?<=\\n))';
    case 'eol':
      return '(?:$|(?=\\n))';
    case 'bot':
      return '^';
    case 'eot':
      return '$';
    case 'wb':
      return '\\b';
    case 'nwb':
      return '\\B';
    case 'empty':
      return '';
    case 'group':
      return `(?:${emit(n.body, globalFold)})`;
    case 'alt':
      return n.alts.map((a) => emit(a, globalFold)).join('|');
    case 'cat':
      return n.items.map((a) => emit(a, globalFold)).join('');
    case 'rep': {
      const sub = n.sub;
      const atom = sub.t === 'lit' || sub.t === 'class' || sub.t === 'any' || sub.t === 'group';
      const body = atom ? emit(sub, globalFold) : `(?:${emit(sub, globalFold)})`;
      let q: string;
      if (n.min === 0 && n.max === -1) q = '*';
      else if (n.min === 1 && n.max === -1) q = '+';
      else if (n.min === 0 && n.max === 1) q = '?';
      else if (n.max === -1) q = `{${n.min},}`;
      else if (n.min === n.max) q = `{${n.min}}`;
      else q = `{${n.min},${n.max}}`;
      return body + q + (n.greedy ? '' : '?');
    }
  }
}

/** A Go pattern translated to JavaScript: `source` and `flags` for `new RegExp`. */
export interface TranslatedRegexp {
  source: string;
  flags: string;
}

/** Parses `expr` with Go's rules and translates it; throws GoRegexpError as Go's `regexp.Compile` would fail. */
export function translateGoRegexp(expr: string): TranslatedRegexp {
  const p = new Parser(expr);
  const tree = p.parse();
  const globalFold = p.foldSeen && !p.plainSeen;
  return { source: emit(tree, globalFold), flags: globalFold ? 'iu' : 'u' };
}

/** A compiled Go pattern; `String()` gives the pattern as written, like Go's `Regexp.String()`. */
export class GoRegexp {
  readonly expr: string;
  readonly regexp: RegExp;
  constructor(expr: string) {
    this.expr = expr;
    const t = translateGoRegexp(expr);
    this.regexp = new RegExp(t.source, t.flags);
  }
  /** Go's `MatchString`: whether the pattern matches anywhere in `s`. */
  matchString(s: string): boolean {
    return this.regexp.test(s);
  }
  toString(): string {
    return this.expr;
  }
}

/** Go's `regexp.Compile`. */
export function compileGoRegexp(expr: string): GoRegexp {
  return new GoRegexp(expr);
}
