/**
 * @tsdns/plugin-file: CoreDNS's file plugin. Serves zones authoritatively
 * from RFC 1035 zone files.
 *
 *     file DBFILE [ZONES...] {
 *         reload DURATION
 *         reload_by_mtime
 *         fallthrough [ZONES...]
 *     }
 */
import type { PluginDefinition } from '@tsdns/core';
import { setup } from './setup.js';

export { File, type Zones } from './file.js';
export { Lookup, Result, synthesizeCNAME, type LookupResult } from './lookup.js';
export { Zone, parseZone, SerialUnchangedError, cleanPath, type Apex, type ParseOptions } from './zone.js';
export { Tree, Elem } from './tree.js';
export { ZoneParser, type ZoneParserOptions, type IncludeReader } from './zoneparser.js';
export { ZLexer, BufferSource, Z, type Lex, type ByteSource } from './lexer.js';
export { ZoneParseError, quoteToASCII } from './errors.js';
export { stringToTTL, txtBytes, decodeRdata } from './rdata.js';
export { reloadZone } from './reload.js';
export { fileParse, setup, type FileConfig } from './setup.js';
export {
  canonicalName,
  substituteDNAME,
  replaceWithAsteriskLabel,
  toAbsoluteName,
  prevLabel,
} from './names.js';
/** dns.NextLabel, shared with core (the file plugin uses core's name helpers where they are miekg's). */
export { nextLabel } from '@tsdns/core';

const plugin: PluginDefinition = { name: 'file', setup };

export default plugin;
