import { Buffer, isUtf8 } from 'node:buffer';
import type { Token } from '@tsdns/core';
import { parse as peggyParse } from './generated/lexer.js';

/** A token as produced by the generated lexer (no file attached yet). */
export interface LexedToken {
  /** Token text: quotes removed, escapes applied, `\r` dropped outside quotes. */
  text: string;
  /** 1-based line on which the token started. */
  line: number;
  /** True when the token was written in double quotes. */
  quoted: boolean;
}

/** Runs the peggy-generated Corefile lexer over `input`. */
export function lexTokens(input: string): LexedToken[] {
  return peggyParse(input) as LexedToken[];
}

/**
 * Splits Corefile text into tokens (caddyfile lexer semantics), each tagged
 * with `file`.
 */
export function lex(input: string, file: string): Token[] {
  return lexTokens(input).map((t) => ({ text: t.text, file, line: t.line }));
}

/**
 * Decodes file bytes the way Go's bufio.Reader.ReadRune sees them: valid UTF-8
 * sequences become code points; each byte that does not start a valid
 * sequence becomes U+FFFD on its own.
 */
export function decodeUtf8AsGo(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let out = '';
  let i = 0;
  const n = bytes.length;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => k < n && bytes[k]! >= lo && bytes[k]! <= hi;
  while (i < n) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let size = 0;
    let cp = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      if (cont(i + 1)) {
        size = 2;
        cp = ((b0 & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      }
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      if (cont(i + 1, lo, hi) && cont(i + 2)) {
        size = 3;
        cp = ((b0 & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      if (cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3)) {
        size = 4;
        cp = ((b0 & 0x07) << 18) | ((bytes[i + 1]! & 0x3f) << 12) | ((bytes[i + 2]! & 0x3f) << 6) | (bytes[i + 3]! & 0x3f);
      }
    }
    if (size === 0) {
      out += '\ufffd';
      i++;
    } else {
      out += String.fromCodePoint(cp);
      i += size;
    }
  }
  return out;
}
