/**
 * Zone-file parse errors, printed exactly as miekg/dns prints them:
 * `FILE: dns: MESSAGE: "TOKEN" at line: LINE:COLUMN`.
 */
import type { Lex } from './lexer.js';

/** Go's strconv.QuoteToASCII for a byte string (one character per byte). */
export function quoteToASCII(bytes: string): string {
  const buf = Buffer.from(bytes, 'latin1');
  let out = '"';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      switch (b) {
        case 0x22:
          out += '\\"';
          continue;
        case 0x5c:
          out += '\\\\';
          continue;
        case 0x07:
          out += '\\a';
          continue;
        case 0x08:
          out += '\\b';
          continue;
        case 0x0c:
          out += '\\f';
          continue;
        case 0x0a:
          out += '\\n';
          continue;
        case 0x0d:
          out += '\\r';
          continue;
        case 0x09:
          out += '\\t';
          continue;
        case 0x0b:
          out += '\\v';
          continue;
      }
      if (b < 0x20 || b === 0x7f) out += '\\x' + b.toString(16).padStart(2, '0');
      else out += String.fromCharCode(b);
      continue;
    }
    // decode one UTF-8 sequence; invalid bytes print as \xNN
    const n = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    let cp = -1;
    if (n > 0 && i + n <= buf.length) {
      cp = n === 2 ? b & 0x1f : n === 3 ? b & 0x0f : b & 0x07;
      for (let k = 1; k < n; k++) {
        const c = buf[i + k]!;
        if ((c & 0xc0) !== 0x80) {
          cp = -1;
          break;
        }
        cp = (cp << 6) | (c & 0x3f);
      }
      if (cp >= 0 && ((n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff)))) cp = -1;
    }
    if (cp < 0) {
      out += '\\x' + b.toString(16).padStart(2, '0');
      i++;
      continue;
    }
    i += n;
    out += cp < 0x10000 ? '\\u' + cp.toString(16).padStart(4, '0') : '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** A syntax error in a zone file (miekg's ParseError). */
export class ZoneParseError extends Error {
  readonly file: string;
  readonly err: string;
  readonly lex: Lex;
  constructor(file: string, err: string, lex: Lex) {
    let s = file !== '' ? file + ': ' : '';
    s += 'dns: ' + err + ': ' + quoteToASCII(lex.token) + ' at line: ' + lex.line + ':' + lex.column;
    super(s);
    this.name = 'ZoneParseError';
    this.file = file;
    this.err = err;
    this.lex = lex;
  }
  /** Line in the zone file. */
  get line(): number {
    return this.lex.line;
  }
  get column(): number {
    return this.lex.column;
  }
}

/** An rdata error before the parser adds the file name. */
export class RdataError {
  readonly err: string;
  readonly lex: Lex | undefined;
  constructor(err: string, lex?: Lex) {
    this.err = err;
    this.lex = lex;
  }
}

/** Go's text for the errno of a failed open/stat (the part after `open PATH: `). */
export function goErrno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EMFILE':
      return 'too many open files';
    default:
      return err.message ?? String(e);
  }
}
