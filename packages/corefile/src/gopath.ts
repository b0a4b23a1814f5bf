/**
 * Go path/filepath behaviour needed by `import` (POSIX paths): Clean, Join,
 * Abs, Dir, Glob and Match, plus Go-style texts for file open errors.
 */
import { Buffer } from 'node:buffer';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';

/** filepath.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  let out = posix.normalize(p);
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out;
}

/** filepath.Join (empty elements ignored, result cleaned; '' when all are empty). */
export function goJoin(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : goClean(parts.join('/'));
}

/** filepath.IsAbs. */
export function goIsAbs(p: string): boolean {
  return p.startsWith('/');
}

/** filepath.Abs against `cwd`. */
export function goAbs(p: string, cwd: string): string {
  return goIsAbs(p) ? goClean(p) : goJoin(cwd, p);
}

/** filepath.Dir. */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/');
  return goClean(p.slice(0, i + 1));
}

/** filepath.ErrBadPattern. */
export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

// --- Match -----------------------------------------------------------------

function scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** Length in UTF-16 units of the code point at the start of `s`. */
function cpLen(s: string): number {
  const c = s.charCodeAt(0);
  return c >= 0xd800 && c <= 0xdbff && s.length > 1 ? 2 : 1;
}

/** getEsc: one (possibly escaped) character of a class. */
function getEsc(chunk: string): { r: number; rest: string } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPatternError();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPatternError();
  }
  const r = chunk.codePointAt(0)!;
  const rest = chunk.slice(cpLen(chunk));
  if (rest.length === 0) throw new BadPatternError();
  return { r, rest };
}

/**
 * matchChunk: matches `chunk` at the start of `s`; returns the rest of `s` or
 * undefined. Keeps checking the chunk's syntax after a mismatch.
 */
function matchChunk(chunk: string, s: string): string | undefined {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = -1;
        if (!failed) {
          r = s.codePointAt(0)!;
          s = s.slice(cpLen(s));
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let match = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk);
          chunk = lo.rest;
          let hi = lo.r;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1));
            chunk = h.rest;
            hi = h.r;
          }
          if (lo.r <= r && r <= hi) match = true;
          nrange++;
        }
        if (match === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true;
          s = s.slice(cpLen(s));
        }
        chunk = chunk.slice(1);
        break;
      default: {
        if (chunk[0] === '\\') {
          chunk = chunk.slice(1);
          if (chunk.length === 0) throw new BadPatternError();
        }
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
      }
    }
  }
  return failed ? undefined : s;
}

/** filepath.Match: shell pattern match of a whole name; throws BadPatternError. */
export function goMatch(pattern: string, name: string): boolean {
  outer: while (pattern.length > 0) {
    const sc = scanChunk(pattern);
    const { star, chunk } = sc;
    pattern = sc.rest;
    if (star && chunk === '') return !name.includes('/');
    const t = matchChunk(chunk, name);
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 !== undefined) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue outer;
        }
      }
    }
    // Before failing, check the rest of the pattern is well formed.
    while (pattern.length > 0) {
      const r = scanChunk(pattern);
      pattern = r.rest;
      matchChunk(r.chunk, '');
    }
    return false;
  }
  return name.length === 0;
}

// --- Glob ------------------------------------------------------------------

function hasMeta(p: string): boolean {
  return /[*?[\\]/.test(p);
}

function cleanGlobPath(p: string): string {
  if (p === '') return '.';
  if (p === '/') return p;
  return p.slice(0, -1);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function globDir(dir: string, pattern: string, matches: string[]): string[] {
  try {
    if (!statSync(dir).isDirectory()) return matches;
  } catch {
    return matches; // I/O errors are ignored
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return matches;
  }
  names.sort(byteOrder);
  for (const n of names) {
    if (goMatch(pattern, n)) matches.push(goJoin(dir, n));
  }
  return matches;
}

/**
 * filepath.Glob: sorted matches per directory; throws BadPatternError.
 * `existsCache` (optional) memoises the lstat of meta-free patterns.
 */
export function goGlob(pattern: string, existsCache?: Map<string, boolean>, depth = 0): string[] {
  goMatch(pattern, ''); // syntax check
  if (depth === 10000) throw new BadPatternError();
  if (!hasMeta(pattern)) {
    let exists = existsCache?.get(pattern);
    if (exists === undefined) {
      try {
        lstatSync(pattern);
        exists = true;
      } catch {
        exists = false;
      }
      existsCache?.set(pattern, exists);
    }
    return exists ? [pattern] : [];
  }
  const slash = pattern.lastIndexOf('/');
  const dir = cleanGlobPath(pattern.slice(0, slash + 1));
  const file = pattern.slice(slash + 1);
  if (!hasMeta(dir)) return globDir(dir, file, []);
  if (dir === pattern) throw new BadPatternError();
  let matches: string[] = [];
  for (const d of goGlob(dir, existsCache, depth + 1)) matches = globDir(d, file, matches);
  return matches;
}

// --- errors ----------------------------------------------------------------

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  ENXIO: 'no such device or address',
  EIO: 'input/output error',
  EINVAL: 'invalid argument',
};

/** Go's *PathError text for a failed file operation: `OP PATH: REASON`. */
export function goPathError(op: string, path: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const reason =
    typeof code === 'string' && ERRNO_TEXT[code] !== undefined
      ? ERRNO_TEXT[code]
      : String((err as Error | null)?.message ?? err).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return `${op} ${path}: ${reason}`;
}
