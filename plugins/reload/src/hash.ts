/**
 * The Corefile fingerprint of CoreDNS's reload plugin: the Corefile parsed
 * syntax-only (caddyfile.Parse with no directive list: any directive name is
 * accepted, snippets and imports are expanded), the server blocks encoded
 * with Go's encoding/json (`[{"Keys":[...],"Tokens":{"dir":[{"File":..,
 * "Line":..,"Text":..}]}}]`, map keys sorted, HTML characters escaped) and
 * the SHA-512 of that JSON in hex. Because tokens carry their line (and,
 * for imported ones, their file),
 * an edit that only changes white space inside a line keeps the hash, while
 * one that moves tokens to other lines (a comment line added above) changes it.
 */
import { createHash } from 'node:crypto';
import { log, type ServerBlock, type Token } from '@tsdns/core';
import { parseCorefile } from '@tsdns/corefile';

/** A directive set that accepts every name: the parse checks syntax only. */
class AnyDirective extends Set<string> {
  override has(_name: string): boolean {
    return true;
  }
}

const ANY: ReadonlySet<string> = new AnyDirective();

/**
 * Parses Corefile text as the reload plugin does (syntax only, imports and
 * snippets expanded, environment variables substituted). Throws the parse
 * error (`Corefile:3 - Error during parsing: ...`).
 */
export function parseSyntaxOnly(text: string, filename: string): ServerBlock[] {
  return parseCorefile(text, { filename, validDirectives: ANY, warn: (m) => log.warning(m) });
}

const HEX = '0123456789abcdef';

/** A string as Go's encoding/json writes it (with HTML escaping, as json.Marshal does). */
export function goJsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        default:
          esc = '\\u00' + HEX[c >> 4]! + HEX[c & 0xf]!;
      }
    } else if (c === 0x22) {
      esc = '\\"';
    } else if (c === 0x5c) {
      esc = '\\\\';
    } else if (c === 0x3c || c === 0x3e || c === 0x26) {
      esc = '\\u00' + HEX[c >> 4]! + HEX[c & 0xf]!;
    } else if (c === 0x2028 || c === 0x2029) {
      esc = c === 0x2028 ? '\\u2028' : '\\u2029';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * caddyfile leaves `File` empty on tokens of the main Corefile (only
 * imported tokens carry their absolute path); tsdns tokens carry the main
 * file's name, which is mapped back to ''.
 */
function tokenJson(t: Token, mainFile: string): string {
  const file = t.file === mainFile ? '' : t.file;
  return `{"File":${goJsonString(file)},"Line":${t.line},"Text":${goJsonString(t.text)}}`;
}

/** Go sorts map keys by their UTF-8 bytes. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `json.Marshal([]caddyfile.ServerBlock)`; `mainFile` is the name the Corefile was parsed under. */
export function serverBlocksJson(blocks: readonly ServerBlock[], mainFile: string): string {
  if (blocks.length === 0) return 'null';
  const parts: string[] = [];
  for (const b of blocks) {
    const keys = `[${b.keys.map(goJsonString).join(',')}]`;
    const dirs = [...b.tokens.keys()].sort(byteOrder);
    const tokens = dirs.map((d) => `${goJsonString(d)}:[${b.tokens.get(d)!.map((t) => tokenJson(t, mainFile)).join(',')}]`).join(',');
    parts.push(`{"Keys":${keys},"Tokens":{${tokens}}}`);
  }
  return `[${parts.join(',')}]`;
}

/** SHA-512 (hex) of the parsed blocks' JSON. */
export function hashBlocks(blocks: readonly ServerBlock[], mainFile: string): string {
  return createHash('sha512').update(serverBlocksJson(blocks, mainFile), 'utf8').digest('hex');
}

/** Parses (syntax only) and hashes Corefile text; throws the parse error. */
export function hashCorefile(text: string, filename: string): string {
  return hashBlocks(parseSyntaxOnly(text, filename), filename);
}
