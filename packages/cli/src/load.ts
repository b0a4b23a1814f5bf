/**
 * Where the Corefile comes from (-conf FILE | stdin, ./Corefile, or the
 * built-in default) and how its text becomes an instance's input. Shared by
 * the single process, the primary of `-workers N` and its workers.
 */
import { existsSync, fstatSync, readFileSync, readSync } from 'node:fs';
import { log, type InspectedBlock, type InstanceOptions, type PluginRegistry } from '@tsdns/core';
import { decodeUtf8AsGo, defaultCorefile, inspectServerBlocks, parseCorefile } from '@tsdns/corefile';

export interface Loaded {
  text: string;
  filename: string;
}

function readStdinIfPipe(): string | undefined {
  try {
    // Only bigint stats and plain reads here: a regular fstat of a pipe (also done
    // by readFileSync(0)) leaves FIFO bits in Node 20's shared stat buffer, which
    // then breaks module resolution of the plugins imported afterwards.
    const st = fstatSync(0, { bigint: true });
    if (st.isCharacterDevice()) return undefined;
    const chunks: Buffer[] = [];
    for (;;) {
      const b = Buffer.allocUnsafe(65536);
      let n: number;
      try {
        n = readSync(0, b, 0, b.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) break;
      chunks.push(b.subarray(0, n));
    }
    return decodeUtf8AsGo(Buffer.concat(chunks));
  } catch {
    return undefined;
  }
}

/** Where the Corefile comes from: -conf FILE | stdin, ./Corefile, or the built-in default. */
export function loadCorefile(conf: string | undefined, port: string): Loaded {
  if (conf) {
    if (conf === 'stdin') {
      const t = readStdinIfPipe();
      if (t !== undefined) return { text: t, filename: '/dev/stdin' };
    } else {
      try {
        return { text: decodeUtf8AsGo(readFileSync(conf)), filename: conf };
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
        throw new Error(`open ${conf}: ${why}`);
      }
    }
  }
  if (existsSync('Corefile')) return { text: decodeUtf8AsGo(readFileSync('Corefile')), filename: 'Corefile' };
  return { text: defaultCorefile(port), filename: 'Corefile' };
}

/**
 * Parses and inspects the Corefile. `warnings: false` drops the parser's
 * warnings (workers of `-workers N`: the primary printed them already).
 */
export function buildInput(loaded: Loaded, registry: PluginRegistry, port: string, warnings = true): InstanceOptions {
  const validDirectives = new Set(registry.names());
  const warn = (m: string): void => {
    if (warnings) log.warning(m);
  };
  let blocks = parseCorefile(loaded.text, { filename: loaded.filename, validDirectives, warn });
  let filename = loaded.filename;
  if (blocks.length === 0) {
    filename = 'Corefile';
    blocks = parseCorefile(defaultCorefile(port), { filename, validDirectives, warn });
  }
  const inspected: InspectedBlock[] = inspectServerBlocks(blocks, { defaultPort: port });
  return { filename, blocks: inspected, registry };
}
