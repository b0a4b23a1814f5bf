/**
 * The zone-file parser, a port of miekg/dns's ZoneParser (scan.go and
 * generate.go): `$ORIGIN`, `$TTL`, `$INCLUDE`, `$GENERATE`, `@`, relative
 * names, omitted owner/TTL/class, TTL and class in either order, TTL units,
 * parentheses, comments, quoted strings and escapes, RFC 3597 `\#` RDATA.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { classToString, fqdnOf, typeToString, type RData, type RR } from '@tsdns/core';
import { goErrno, RdataError, ZoneParseError } from './errors.js';
import { BufferSource, Z, ZLexer, emptyLex, type ByteSource, type Lex } from './lexer.js';
import { canonicalName, domainNameLabels, toAbsoluteName } from './names.js';
import { decodeRdata, emptyRdata, isSupportedType, parseRFC3597, parseRdata, slurpRemainder, stringToTTL, UNSUPPORTED } from './rdata.js';

const MAX_INCLUDE_DEPTH = 7;
const DEFAULT_TTL = 3600;

/** Types that have no presentation form of their own (miekg has no struct for them). */
const META_TYPES = new Set([0, 251, 252, 253, 254, 255]);
/** Types the tsdns wire model keeps structured (RFC 3597 input is decoded into that shape). */
const STRUCTURED = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 18, 21, 28, 33, 36, 39, 99, 257]);

interface TtlState {
  ttl: number;
  isByDirective: boolean;
}

/** Reads a file for `$INCLUDE` (synchronously; zone files are small). */
export type IncludeReader = (path: string) => Uint8Array;

const defaultReader: IncludeReader = (p) => readFileSync(p);

export interface ZoneParserOptions {
  /** Allow `$INCLUDE` (CoreDNS's file plugin allows it). Default true. */
  includeAllowed?: boolean;
  /** How included files are read (default: readFileSync). */
  readFile?: IncludeReader;
}

/**
 * Reads RRs one by one from zone-file text: `next()` returns the next record
 * or undefined at the end or on error; `err()` then tells which.
 */
export class ZoneParser {
  private readonly c: ZLexer;
  private parseErr: ZoneParseError | undefined;
  private origin: string;
  private readonly file: string;
  private defttl: TtlState | undefined;
  private readonly h = { name: '', ttl: 0, klass: 1, type: 0 };
  private sub: ZoneParser | undefined;
  private includeDepth = 0;
  private includeAllowed: boolean;
  private generateDisallowed = false;
  private readonly readFile: IncludeReader;

  constructor(input: Uint8Array | ByteSource, origin: string, file: string, opts: ZoneParserOptions = {}) {
    this.c = new ZLexer(input instanceof Uint8Array ? new BufferSource(input) : input);
    this.file = file;
    this.includeAllowed = opts.includeAllowed ?? true;
    this.readFile = opts.readFile ?? defaultReader;
    if (origin !== '') {
      origin = fqdnOf(origin);
      if (domainNameLabels(origin) < 0) this.parseErr = new ZoneParseError(file, 'bad initial origin name', emptyLex());
    }
    this.origin = origin;
  }

  /** The first error met (a syntax error, an unreadable include, a bad $GENERATE). */
  err(): Error | undefined {
    if (this.parseErr) return this.parseErr;
    if (this.sub) {
      const e = this.sub.err();
      if (e) return e;
    }
    return this.c.err();
  }

  private setParseError(err: string, l: Lex): undefined {
    this.parseErr = new ZoneParseError(this.file, err, l);
    return undefined;
  }

  /** A TTL on a record line: the record's, and the default unless a $TTL is in force. False when it is not a TTL. */
  private ownerTTL(token: string): boolean {
    const ttl = stringToTTL(token);
    if (ttl === undefined) return false;
    this.h.ttl = ttl;
    if (!this.defttl || !this.defttl.isByDirective) this.defttl = { ttl, isByDirective: false };
    return true;
  }

  /** The one word after `$TTL` or `$ORIGIN`, which must end its line; undefined after an error. */
  private directiveValue(l: Lex, directive: string): string | undefined {
    if (l.value !== Z.String) return this.setParseError(`expecting ${directive} value, not this...`, l);
    const e = slurpRemainder(this.c);
    if (e) return this.setParseError(e.err, e.lex!);
    return l.token;
  }

  private subNext(): RR | undefined {
    const sub = this.sub!;
    const rr = sub.next();
    if (rr) return rr;
    if (sub.err()) return undefined;
    this.sub = undefined;
    return this.next();
  }

  /** The next record, or undefined (end of input or error: see `err()`). */
  next(): RR | undefined {
    if (this.parseErr) return undefined;
    if (this.sub) return this.subNext();

    let st: St = St.OwnerDir;
    const h = this.h;
    for (let [l, ok] = this.c.next(); ok; [l, ok] = this.c.next()) {
      if (l.err) return this.setParseError(l.token, l);
      switch (st) {
        case St.DirTTL: {
          const v = this.directiveValue(l, '$TTL');
          if (v === undefined) return undefined;
          const ttl = stringToTTL(v);
          if (ttl === undefined) return this.setParseError('expecting $TTL value, not this...', l);
          this.defttl = { ttl, isByDirective: true };
          st = St.OwnerDir;
          continue;
        }
        case St.DirOrigin: {
          const v = this.directiveValue(l, '$ORIGIN');
          if (v === undefined) return undefined;
          const name = toAbsoluteName(v, this.origin);
          if (name === undefined) return this.setParseError('bad origin name', l);
          this.origin = name;
          st = St.OwnerDir;
          continue;
        }
        case St.DirInclude:
          return this.include(l);
        case St.DirGenerate:
          if (this.generateDisallowed) return this.setParseError('nested $GENERATE directive not allowed', l);
          if (l.value !== Z.String) return this.setParseError('expecting $GENERATE value, not this...', l);
          return this.generate(l);
        case St.Rdata:
          return this.rdata(l);
        case St.OwnerDir:
          if (this.defttl) h.ttl = this.defttl.ttl;
          h.klass = 1;
          break;
      }
      const step: Step = STEPS[st];
      const next: St | undefined = step.on[l.value];
      if (next === undefined) return this.setParseError(step.err, l);
      // what the token sets is the same in every state that takes it
      switch (l.value) {
        case Z.Owner: {
          const name = toAbsoluteName(l.token, this.origin);
          if (name === undefined) return this.setParseError('bad owner name', l);
          h.name = name;
          break;
        }
        case Z.Rrtype:
          // a type right after the owner needs a TTL from somewhere
          if (st === St.Any && !this.defttl) return this.setParseError('missing TTL with no previous value', l);
          h.type = l.torc;
          break;
        case Z.Class:
          h.klass = l.torc;
          break;
        case Z.String:
          if (!this.ownerTTL(l.token)) return this.setParseError('not a TTL', l);
          break;
      }
      st = next;
    }
    // an empty zone file is still a zone file
    return undefined;
  }

  private makeRR(data: RData): RR {
    const h = this.h;
    return { name: canonicalName(h.name), type: typeToString(h.type), class: classToString(h.klass), ttl: h.ttl, data };
  }

  private rdata(l: Lex): RR | undefined {
    const t = this.h.type;
    // miekg has a type of its own for every named type; others must use RFC 3597
    const known = !META_TYPES.has(t) && !typeToString(t).startsWith('TYPE');
    const asRFC3597 = !known || this.c.peek().token === '\\#';
    if (this.c.peek().token === '') {
      // a record without rdata (dynamic update style)
      const e = slurpRemainder(this.c);
      if (e) return this.setParseError(e.err, e.lex!);
      return this.makeRR(emptyRdata(t));
    } else if (l.value === Z.Newline) {
      return this.setParseError('unexpected newline', l);
    }
    let data: RData;
    try {
      if (asRFC3597) {
        const raw = parseRFC3597(this.c);
        if (STRUCTURED.has(t)) {
          try {
            data = raw.length === 0 ? emptyRdata(t) : decodeRdata(t, raw);
          } catch (e) {
            return this.setParseError((e as Error).message, l);
          }
        } else {
          data = raw;
        }
      } else if (!isSupportedType(t) && t !== 50 && t !== 51) {
        return this.setParseError(UNSUPPORTED, l);
      } else if (t === 50 || t === 51) {
        // NSEC3/NSEC3PARAM: the zone refuses them when they are inserted; keep the text
        let s = '';
        let [x] = this.c.next();
        while (x.value !== Z.Newline && x.value !== Z.EOF) {
          s += x.token;
          [x] = this.c.next();
        }
        data = Buffer.from(s, 'latin1');
      } else {
        data = parseRdata(t, this.c, this.origin);
      }
    } catch (e) {
      if (e instanceof RdataError) return this.setParseError(e.err, e.lex === undefined || isZeroLex(e.lex) ? l : e.lex);
      throw e;
    }
    return this.makeRR(data);
  }

  private include(l: Lex): RR | undefined {
    if (l.value !== Z.String) return this.setParseError('expecting $INCLUDE value, not this...', l);
    let neworigin = this.origin;
    const [l2] = this.c.next();
    switch (l2.value) {
      case Z.Blank: {
        const [l3] = this.c.next();
        if (l3.value === Z.String) {
          const name = toAbsoluteName(l3.token, this.origin);
          if (name === undefined) return this.setParseError('bad origin name', l3);
          neworigin = name;
        }
        break;
      }
      case Z.Newline:
      case Z.EOF:
        break;
      default:
        return this.setParseError('garbage after $INCLUDE', l2);
    }
    if (!this.includeAllowed) return this.setParseError('$INCLUDE directive not allowed', l);
    if (this.includeDepth >= MAX_INCLUDE_DEPTH) return this.setParseError('too deeply nested $INCLUDE', l);
    let includePath = l.token;
    if (!isAbsolute(includePath)) includePath = join(dirname(this.file), includePath);
    let data: Uint8Array;
    try {
      data = this.readFile(includePath);
    } catch (e) {
      const as = includePath !== l.token ? ` as \`${includePath}'` : '';
      return this.setParseError(`failed to open \`${l.token}'${as}: open ${includePath}: ${goErrno(e)}`, l);
    }
    const sub = new ZoneParser(data, neworigin, includePath, { includeAllowed: true, readFile: this.readFile });
    sub.defttl = this.defttl;
    sub.includeDepth = this.includeDepth + 1;
    this.sub = sub;
    return this.subNext();
  }

  private generate(l: Lex): RR | undefined {
    let token = l.token;
    let step = 1;
    const slash = token.indexOf('/');
    if (slash >= 0) {
      if (slash + 1 === token.length) return this.setParseError('bad step in $GENERATE range', l);
      const s = parseInt64(token.slice(slash + 1));
      if (s === undefined || s <= 0) return this.setParseError('bad step in $GENERATE range', l);
      step = s;
      token = token.slice(0, slash);
    }
    const dash = token.indexOf('-');
    if (dash < 0) return this.setParseError('bad start-stop in $GENERATE range', l);
    const start = parseInt64(token.slice(0, dash));
    if (start === undefined) return this.setParseError('bad start in $GENERATE range', l);
    const end = parseInt64(token.slice(dash + 1));
    if (end === undefined) return this.setParseError('bad stop in $GENERATE range', l);
    if (end < 0 || start < 0 || end < start || Math.trunc((end - start) / step) > 65535) return this.setParseError('bad range in $GENERATE range', l);

    const [blank, ok] = this.c.next();
    if (!ok || blank.value !== Z.Blank) return this.setParseError('garbage after $GENERATE range', blank);
    let s = '';
    for (let [x, okx] = this.c.next(); okx; [x, okx] = this.c.next()) {
      if (x.err) return this.setParseError('bad data in $GENERATE directive', x);
      if (x.value === Z.Newline) break;
      s += x.token;
    }
    const r = new GenerateReader(s, start, end, step, this.file, blank);
    const sub = new ZoneParser(r, this.origin, this.file, { includeAllowed: this.includeAllowed, readFile: this.readFile });
    sub.includeDepth = this.includeDepth;
    sub.generateDisallowed = true;
    sub.defttl = { ttl: DEFAULT_TTL, isByDirective: false };
    this.sub = sub;
    return this.subNext();
  }
}

const enum_ = {
  OwnerDir: 0,
  OwnerBl: 1,
  Any: 2,
  AnyNoClass: 3,
  AnyNoClassBl: 4,
  AnyNoTTL: 5,
  AnyNoTTLBl: 6,
  Rrtype: 7,
  RrtypeBl: 8,
  Rdata: 9,
  DirTTLBl: 10,
  DirTTL: 11,
  DirOriginBl: 12,
  DirOrigin: 13,
  DirIncludeBl: 14,
  DirInclude: 15,
  DirGenerate: 16,
  DirGenerateBl: 17,
} as const;
const St = enum_;
type St = (typeof enum_)[keyof typeof enum_];

/** The token kinds a state takes, the state each leads to, and the error for any other token. */
interface Step {
  readonly on: Readonly<Partial<Record<number, St>>>;
  readonly err: string;
}

/** A state that takes only a blank. */
function blankThen(next: St, err: string): Step {
  return { on: { [Z.Blank]: next }, err };
}

/** The record-line and directive states of miekg's zone scanner; the states that read values are `next()`'s own. */
const STEPS: Readonly<Record<Exclude<St, typeof St.Rdata | typeof St.DirTTL | typeof St.DirOrigin | typeof St.DirInclude | typeof St.DirGenerate>, Step>> = {
  [St.OwnerDir]: {
    on: {
      [Z.Newline]: St.OwnerDir,
      [Z.Blank]: St.OwnerDir,
      [Z.Owner]: St.OwnerBl,
      [Z.DirTTL]: St.DirTTLBl,
      [Z.DirOrigin]: St.DirOriginBl,
      [Z.DirInclude]: St.DirIncludeBl,
      [Z.DirGenerate]: St.DirGenerateBl,
      [Z.Rrtype]: St.Rdata,
      [Z.Class]: St.AnyNoClassBl,
      [Z.String]: St.AnyNoTTLBl,
    },
    err: 'syntax error at beginning',
  },
  [St.OwnerBl]: blankThen(St.Any, 'no blank after owner'),
  [St.Any]: { on: { [Z.Rrtype]: St.Rdata, [Z.Class]: St.AnyNoClassBl, [Z.String]: St.AnyNoTTLBl }, err: 'expecting RR type, TTL or class, not this...' },
  [St.AnyNoClassBl]: blankThen(St.AnyNoClass, 'no blank before class'),
  [St.AnyNoClass]: { on: { [Z.String]: St.RrtypeBl, [Z.Rrtype]: St.Rdata }, err: 'expecting RR type or TTL, not this...' },
  [St.AnyNoTTLBl]: blankThen(St.AnyNoTTL, 'no blank before TTL'),
  [St.AnyNoTTL]: { on: { [Z.Class]: St.RrtypeBl, [Z.Rrtype]: St.Rdata }, err: 'expecting RR type or class, not this...' },
  [St.RrtypeBl]: blankThen(St.Rrtype, 'no blank before RR type'),
  [St.Rrtype]: { on: { [Z.Rrtype]: St.Rdata }, err: 'unknown RR type' },
  [St.DirTTLBl]: blankThen(St.DirTTL, 'no blank after $TTL-directive'),
  [St.DirOriginBl]: blankThen(St.DirOrigin, 'no blank after $ORIGIN-directive'),
  [St.DirIncludeBl]: blankThen(St.DirInclude, 'no blank after $INCLUDE-directive'),
  [St.DirGenerateBl]: blankThen(St.DirGenerate, 'no blank after $GENERATE-directive'),
};

function isZeroLex(l: Lex): boolean {
  return l.token === '' && !l.err && l.value === Z.EOF && l.torc === 0 && l.line === 0 && l.column === 0;
}

function parseInt64(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Go's fmt verbs %d %o %x %X with an optional zero-padded width. */
function modToFormatter(mod: string): { fmt: (n: number) => string; offset: number } | string {
  const parts = mod.split(',');
  if (parts.length > 3) return 'bad modifier in $GENERATE';
  const offStr = parts[0]!;
  const widthStr = parts.length > 1 ? parts[1]! : '0';
  const base = parts.length > 2 ? parts[2]! : 'd';
  if (!['o', 'd', 'x', 'X'].includes(base)) return 'bad base in $GENERATE';
  const offset = parseInt64(offStr);
  if (offset === undefined) return 'bad offset in $GENERATE';
  if (!/^[0-9]+$/.test(widthStr) || Number(widthStr) > 255) return 'bad width in $GENERATE';
  const width = Number(widthStr);
  const radix = base === 'o' ? 8 : base === 'd' ? 10 : 16;
  return {
    offset,
    fmt: (n: number): string => {
      let t = Math.abs(n).toString(radix);
      if (base === 'X') t = t.toUpperCase();
      if (n < 0) return '-' + t.padStart(width - 1, '0');
      return t.padStart(width, '0');
    },
  };
}

/** Replays a `$GENERATE` template once per step (miekg's generateReader). */
class GenerateReader implements ByteSource {
  private readonly s: string;
  private si = 0;
  private cur: number;
  private readonly start: number;
  private readonly end: number;
  private readonly step: number;
  private mod = '';
  private escape = false;
  private eof = false;
  private readonly file: string;
  private readonly lex: Lex;
  error: Error | undefined = undefined;

  constructor(s: string, start: number, end: number, step: number, file: string, lex: Lex) {
    this.s = s;
    this.cur = start;
    this.start = start;
    this.end = end;
    this.step = step;
    this.file = file;
    this.lex = lex;
  }

  private parseError(msg: string, end: number): number {
    this.eof = true;
    const l = { ...this.lex };
    l.token = this.s.slice(this.si - 1, end);
    l.column += this.si;
    this.error = new ZoneParseError(this.file, msg, l);
    return -1;
  }

  private fromMod(): number {
    const c = this.mod.charCodeAt(0);
    this.mod = this.mod.slice(1);
    return c;
  }

  readByte(): number {
    if (this.eof) return -1;
    if (this.mod.length > 0) return this.fromMod();
    if (this.si >= this.s.length) {
      this.si = 0;
      this.cur += this.step;
      this.eof = this.cur > this.end || this.cur < 0;
      return 0x0a;
    }
    const si = this.si;
    this.si++;
    const ch = this.s.charCodeAt(si);
    switch (ch) {
      case 0x5c: // '\\'
        if (this.escape) {
          this.escape = false;
          return 0x5c;
        }
        this.escape = true;
        return this.readByte();
      case 0x24: {
        // '$'
        if (this.escape) {
          this.escape = false;
          return 0x24;
        }
        let fmt = (n: number): string => String(n);
        if (si >= this.s.length - 1) {
          this.mod = fmt(this.cur);
          return this.fromMod();
        }
        if (this.s.charCodeAt(si + 1) === 0x24) {
          this.si++;
          return 0x24;
        }
        let offset = 0;
        if (this.s.charCodeAt(si + 1) === 0x7b) {
          const sep = this.s.indexOf('}', si + 2);
          if (sep < 0) return this.parseError('bad modifier in $GENERATE', this.s.length);
          const m = modToFormatter(this.s.slice(si + 2, sep));
          if (typeof m === 'string') return this.parseError(m, sep + 1);
          if (this.start + m.offset < 0 || this.end + m.offset > 2 ** 31 - 1) return this.parseError('bad offset in $GENERATE', sep + 1);
          fmt = m.fmt;
          offset = m.offset;
          this.si = sep + 1;
        }
        this.mod = fmt(this.cur + offset);
        return this.fromMod();
      }
      default:
        if (this.escape) {
          this.escape = false;
          return this.readByte();
        }
        return ch;
    }
  }
}
