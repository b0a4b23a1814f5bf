/**
 * The RFC 1035 zone-file lexer, a port of miekg/dns's zlexer (the library
 * CoreDNS reads zone files with), so that tokens, line/column positions and
 * lexer errors are the same. Input is bytes; tokens are latin1 strings (one
 * character per byte).
 */
import { typeCode, classCode } from '@tsdns/core';

export const Z = {
  EOF: 0,
  String: 1,
  Blank: 2,
  Quote: 3,
  Newline: 4,
  Rrtype: 5,
  Owner: 6,
  Class: 7,
  DirOrigin: 8,
  DirTTL: 9,
  DirInclude: 10,
  DirGenerate: 11,
} as const;

export interface Lex {
  /** Text of the token. */
  token: string;
  /** The token text is a lexer error message. */
  err: boolean;
  /** One of `Z`. */
  value: number;
  /** Type or class code seen by the lexer. */
  torc: number;
  line: number;
  column: number;
}

export function emptyLex(): Lex {
  return { token: '', err: false, value: Z.EOF, torc: 0, line: 0, column: 0 };
}

/** Where the lexer reads bytes from; `readByte` returns -1 at the end (or after `error` was set). */
export interface ByteSource {
  readByte(): number;
  /** A read error other than the end of input (set by `$GENERATE` expansion). */
  readonly error: Error | undefined;
}

export class BufferSource implements ByteSource {
  private readonly buf: Uint8Array;
  private off = 0;
  readonly error: Error | undefined = undefined;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  readByte(): number {
    if (this.off >= this.buf.length) return -1;
    return this.buf[this.off++]!;
  }
}

/** miekg's StringToType (mnemonics only). */
export function stringToType(upper: string): number | undefined {
  if (upper.startsWith('TYPE') || upper.startsWith('UNKNOWN_')) return undefined;
  return typeCode(upper);
}

/** miekg's StringToClass. */
export function stringToClass(upper: string): number | undefined {
  if (upper.startsWith('CLASS')) return undefined;
  return classCode(upper);
}

/** Extract the number from TYPExxx / CLASSxxx (strconv.ParseUint(…, 10, 16)). */
function suffixToInt(token: string, offset: number): number | undefined {
  if (token.length < offset + 1) return undefined;
  const s = token.slice(offset);
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xffff ? n : undefined;
}

export function typeToInt(token: string): number | undefined {
  return suffixToInt(token, 4);
}

export function classToInt(token: string): number | undefined {
  return suffixToInt(token, 5);
}

export class ZLexer {
  private readonly src: ByteSource;
  private eofSeen = false;
  line = 1;
  column = 0;
  private comBuf = '';
  private commentText = '';
  private l: Lex = emptyLex();
  private cachedL: Lex | undefined;
  private brace = 0;
  private quote = false;
  private space = false;
  private commt = false;
  private rrtype = false;
  private owner = true;
  private nextL = false;
  private eol = false;

  constructor(src: ByteSource) {
    this.src = src;
  }

  /** The comment that ended the last line (miekg's Comment()). */
  comment(): string {
    return this.l.err ? '' : this.commentText;
  }

  /** The read error (not the end of input), if any. */
  err(): Error | undefined {
    return this.src.error;
  }

  private readByte(): number {
    if (this.eofSeen) return -1;
    const c = this.src.readByte();
    if (c < 0) {
      this.eofSeen = true;
      return -1;
    }
    if (this.eol) {
      this.line++;
      this.column = 0;
      this.eol = false;
    }
    if (c === 0x0a) this.eol = true;
    else this.column++;
    return c;
  }

  peek(): Lex {
    if (this.nextL) return { ...this.l };
    const [l, ok] = this.next();
    if (!ok) return l;
    if (this.nextL) this.cachedL = l;
    else this.nextL = true;
    return l;
  }

  next(): [Lex, boolean] {
    const l = this.l;
    if (this.cachedL !== undefined) {
      const c = this.cachedL;
      this.cachedL = undefined;
      return [c, true];
    }
    if (this.nextL) {
      this.nextL = false;
      return [{ ...l }, true];
    }
    if (l.err) return [emptyLex(), false];

    let str = '';
    let com = '';
    let escape = false;
    if (this.comBuf !== '') {
      com = this.comBuf;
      this.comBuf = '';
    }
    this.commentText = '';

    for (let x = this.readByte(); x >= 0; x = this.readByte()) {
      l.line = this.line;
      l.column = this.column;
      switch (x) {
        case 0x20: // ' '
        case 0x09: {
          // '\t'
          if (escape || this.quote) {
            str += String.fromCharCode(x);
            escape = false;
            break;
          }
          if (this.commt) {
            com += String.fromCharCode(x);
            break;
          }
          let retL: Lex | undefined;
          if (str.length === 0) {
            // space at the beginning, handled by the grammar
          } else if (this.owner) {
            l.value = Z.Owner;
            l.token = str;
            switch (str.toUpperCase()) {
              case '$TTL':
                l.value = Z.DirTTL;
                break;
              case '$ORIGIN':
                l.value = Z.DirOrigin;
                break;
              case '$INCLUDE':
                l.value = Z.DirInclude;
                break;
              case '$GENERATE':
                l.value = Z.DirGenerate;
                break;
            }
            retL = { ...l };
          } else {
            l.value = Z.String;
            l.token = str;
            if (!this.rrtype) {
              const upper = str.toUpperCase();
              const t = stringToType(upper);
              if (t !== undefined) {
                l.value = Z.Rrtype;
                l.torc = t;
                this.rrtype = true;
              } else if (upper.startsWith('TYPE')) {
                const n = typeToInt(str);
                if (n === undefined) {
                  l.token = 'unknown RR type';
                  l.err = true;
                  return [{ ...l }, true];
                }
                l.value = Z.Rrtype;
                l.torc = n;
                this.rrtype = true;
              }
              const c = stringToClass(upper);
              if (c !== undefined) {
                l.value = Z.Class;
                l.torc = c;
              } else if (upper.startsWith('CLASS')) {
                const n = classToInt(str);
                if (n === undefined) {
                  l.token = 'unknown class';
                  l.err = true;
                  return [{ ...l }, true];
                }
                l.value = Z.Class;
                l.torc = n;
              }
            }
            retL = { ...l };
          }
          this.owner = false;
          if (!this.space) {
            this.space = true;
            l.value = Z.Blank;
            l.token = ' ';
            if (retL === undefined) return [{ ...l }, true];
            this.nextL = true;
          }
          if (retL !== undefined) return [retL, true];
          break;
        }
        case 0x3b: // ';'
          if (escape || this.quote) {
            str += ';';
            escape = false;
            break;
          }
          this.commt = true;
          this.comBuf = '';
          if (com.length > 1) com += ' ';
          com += ';';
          if (str.length > 0) {
            this.comBuf = com;
            l.value = Z.String;
            l.token = str;
            return [{ ...l }, true];
          }
          break;
        case 0x0d: // '\r'
          escape = false;
          if (this.quote) str += '\r';
          break;
        case 0x0a: {
          // '\n'
          escape = false;
          if (this.quote) {
            str += '\n';
            break;
          }
          if (this.commt) {
            this.commt = false;
            this.rrtype = false;
            if (this.brace === 0) {
              this.owner = true;
              l.value = Z.Newline;
              l.token = '\n';
              this.commentText = com;
              return [{ ...l }, true];
            }
            this.comBuf = com;
            break;
          }
          if (this.brace === 0) {
            let retL: Lex | undefined;
            if (str.length !== 0) {
              l.value = Z.String;
              l.token = str;
              if (!this.rrtype) {
                const t = stringToType(str.toUpperCase());
                if (t !== undefined) {
                  this.rrtype = true;
                  l.value = Z.Rrtype;
                  l.torc = t;
                }
              }
              retL = { ...l };
            }
            l.value = Z.Newline;
            l.token = '\n';
            this.commentText = this.comBuf;
            this.comBuf = '';
            this.rrtype = false;
            this.owner = true;
            if (retL !== undefined) {
              this.nextL = true;
              return [retL, true];
            }
            return [{ ...l }, true];
          }
          break;
        }
        case 0x5c: // '\\'
          if (this.commt) {
            com += '\\';
            break;
          }
          if (escape) {
            str += '\\';
            escape = false;
            break;
          }
          str += '\\';
          escape = true;
          break;
        case 0x22: {
          // '"'
          if (this.commt) {
            com += '"';
            break;
          }
          if (escape) {
            str += '"';
            escape = false;
            break;
          }
          this.space = false;
          let retL: Lex | undefined;
          if (str.length !== 0) {
            l.value = Z.String;
            l.token = str;
            retL = { ...l };
          }
          l.value = Z.Quote;
          l.token = '"';
          this.quote = !this.quote;
          if (retL !== undefined) {
            this.nextL = true;
            return [retL, true];
          }
          return [{ ...l }, true];
        }
        case 0x28: // '('
        case 0x29: // ')'
          if (this.commt) {
            com += String.fromCharCode(x);
            break;
          }
          if (escape || this.quote) {
            str += String.fromCharCode(x);
            escape = false;
            break;
          }
          if (x === 0x29) {
            this.brace--;
            if (this.brace < 0) {
              l.token = 'extra closing brace';
              l.err = true;
              return [{ ...l }, true];
            }
          } else {
            this.brace++;
          }
          break;
        default:
          escape = false;
          if (this.commt) {
            com += String.fromCharCode(x);
            break;
          }
          str += String.fromCharCode(x);
          this.space = false;
      }
    }

    if (this.src.error !== undefined) return [emptyLex(), false];

    let retL: Lex | undefined;
    if (str.length > 0) {
      l.value = Z.String;
      l.token = str;
      retL = { ...l };
      if (com.length <= 0) return [retL, true];
    }
    if (com.length > 0) {
      l.value = Z.Newline;
      l.token = '\n';
      this.commentText = com;
      if (retL !== undefined) {
        this.nextL = true;
        return [retL, true];
      }
      return [{ ...l }, true];
    }
    if (this.brace !== 0) {
      l.token = 'unbalanced brace';
      l.err = true;
      return [{ ...l }, true];
    }
    return [emptyLex(), false];
  }
}
