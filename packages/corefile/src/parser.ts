/**
 * Corefile parser: the caddyfile (coredns/caddy fork) parser semantics -
 * server blocks, directives, env substitution, snippets and `import`.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { argFollows, ConfigError, startsLine, type ServerBlock, type Token } from '@tsdns/core';
import { envLookup, EnvExpansionError, replaceEnvVars, type EnvLookup } from './env.js';
import { BadPatternError, goAbs, goDir, goGlob, goIsAbs, goJoin, goPathError } from './gopath.js';
import { decodeUtf8AsGo, lexTokens, type LexedToken } from './lexer.js';

export interface ParseOptions {
  /** Name of the main Corefile as given (the -conf value, or `Corefile`). */
  filename: string;
  /** Directive names accepted in server blocks (case-sensitive). */
  validDirectives: ReadonlySet<string>;
  /** Environment for `{$X}` / `{%X%}`; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Directory the main file name is relative to; defaults to process.cwd(). */
  cwd?: string;
  /**
   * Receives warnings, e.g. `No files matching import glob pattern: X`
   * (CoreDNS logs it with a `[WARNING] ` prefix). Default: written to stdout
   * as `[WARNING] MSG` (CoreDNS's standard logger writes to stdout).
   */
  warn?: (msg: string) => void;
  /** Expansion caps (tests only); CoreDNS uses 10000 snippets / 100000 files. */
  limits?: { maxSnippetExpansions?: number; maxFileExpansions?: number };
}

export const MAX_SNIPPET_EXPANSIONS = 10000;
export const MAX_FILE_EXPANSIONS = 100000;

/** Parser-internal token: `file` is '' for tokens of the main input. */
interface PToken {
  text: string;
  file: string;
  line: number;
}

interface BlockBuilder {
  keys: string[];
  keyTokens: Token[];
  tokens: Map<string, Token[]>;
}

class Parser {
  private tokens: PToken[];
  private cursor = -1;
  private block: BlockBuilder = newBlock();
  private eof = false;
  private readonly snippets = new Map<string, PToken[]>();
  private snippetExpansions = 0;
  private fileExpansions = 0;
  /**
   * Files already read during this parse (a file imported again, e.g. in an
   * import cycle, is not re-read) and lstat results of meta-free patterns.
   */
  private readonly fileCache = new Map<string, readonly LexedToken[]>();
  private readonly existsCache = new Map<string, boolean>();
  private readonly filename: string;
  private readonly valid: ReadonlySet<string>;
  private readonly lookup: EnvLookup;
  private readonly cwd: string;
  private readonly warn: (msg: string) => void;
  private readonly maxSnippets: number;
  private readonly maxFiles: number;

  constructor(input: string, opts: ParseOptions) {
    this.filename = opts.filename;
    this.valid = opts.validDirectives;
    this.lookup = envLookup(opts.env ?? process.env);
    this.cwd = opts.cwd ?? process.cwd();
    this.warn = opts.warn ?? ((msg) => process.stdout.write(`[WARNING] ${msg}\n`));
    this.maxSnippets = opts.limits?.maxSnippetExpansions ?? MAX_SNIPPET_EXPANSIONS;
    this.maxFiles = opts.limits?.maxFileExpansions ?? MAX_FILE_EXPANSIONS;
    this.tokens = lexTokens(input).map((t) => ({ text: t.text, file: '', line: t.line }));
  }

  // --- dispenser primitives (caddyfile.Dispenser) --------------------------

  private next(): boolean {
    if (this.cursor < this.tokens.length - 1) {
      this.cursor++;
      return true;
    }
    return false;
  }

  private nextArg(): boolean {
    if (!argFollows(this.tokens, this.cursor)) return false;
    this.cursor++;
    return true;
  }

  private isNewLine(): boolean {
    return startsLine(this.tokens, this.cursor);
  }

  private current(): PToken | undefined {
    return this.cursor < 0 || this.cursor >= this.tokens.length ? undefined : this.tokens[this.cursor];
  }

  private val(): string {
    return this.current()?.text ?? '';
  }

  private curLine(): number {
    return this.current()?.line ?? 0;
  }

  private curFile(): string {
    const f = this.current()?.file;
    return f ? f : this.filename;
  }

  private err(msg: string): ConfigError {
    return ConfigError.parsing(this.curFile(), this.curLine(), msg);
  }

  private syntaxErr(expected: string): ConfigError {
    return ConfigError.syntax(this.curFile(), this.curLine(), this.val(), expected);
  }

  private argErr(): ConfigError {
    if (this.val() === '{') return this.err("Unexpected token '{', expecting argument");
    return this.err(`Wrong argument count or unexpected line ending after '${this.val()}'`);
  }

  /** Environment substitution; a runaway expansion is reported at the current token. */
  private env(s: string): string {
    try {
      return replaceEnvVars(s, this.lookup);
    } catch (e) {
      if (e instanceof EnvExpansionError) throw this.err(e.message);
      throw e;
    }
  }

  private publicToken(t: PToken): Token {
    return { text: t.text, file: t.file || this.filename, line: t.line };
  }

  // --- parser --------------------------------------------------------------

  parseAll(): ServerBlock[] {
    const blocks: ServerBlock[] = [];
    while (this.next()) {
      this.block = newBlock();
      this.begin();
      if (this.block.keys.length > 0) blocks.push(this.block);
    }
    return blocks;
  }

  private begin(): void {
    if (this.tokens.length === 0) return;
    this.addresses();
    if (this.eof) return; // only a line of addresses
    const snippet = this.snippetName();
    if (snippet !== undefined) {
      if (this.snippets.has(snippet)) throw this.err(`redeclaration of previously declared snippet ${snippet}`);
      const body = this.snippetTokens();
      // Trivial self-import guard: `import NAME` at the start of a line.
      for (let i = 0; i + 1 < body.length; i++) {
        if (body[i]!.text !== 'import') continue;
        const atLineStart = i === 0 || body[i - 1]!.file !== body[i]!.file || body[i - 1]!.line !== body[i]!.line;
        if (atLineStart && this.env(body[i + 1]!.text) === snippet) {
          throw this.err(`maximum snippet import depth (${this.maxSnippets}) exceeded`);
        }
      }
      this.snippets.set(snippet, body);
      this.block.keys = [];
      this.block.keyTokens = [];
      return;
    }
    this.blockContents();
  }

  private addresses(): void {
    let expectingAnother = false;
    for (;;) {
      let tkn = this.env(this.val());
      if (tkn === 'import' && this.isNewLine()) {
        this.doImport();
        continue;
      }
      if (tkn === '{') {
        if (expectingAnother) throw this.err(`Expected another address but had '${tkn}' - check for extra comma`);
        break;
      }
      if (tkn !== '') {
        if (tkn.endsWith(',')) {
          tkn = tkn.slice(0, -1);
          expectingAnother = true;
        } else {
          expectingAnother = false;
        }
        const cur = this.current();
        this.block.keys.push(tkn);
        this.block.keyTokens.push({ text: tkn, file: cur?.file || this.filename, line: cur?.line ?? 0 });
      }
      const hasNext = this.next();
      if (expectingAnother && !hasNext) throw this.err('Unexpected EOF');
      if (!hasNext) {
        this.eof = true;
        break;
      }
      if (!expectingAnother && this.isNewLine()) break;
    }
  }

  private blockContents(): void {
    const opened = this.val() === '{';
    if (!opened) this.cursor--; // brace-less block: this token is the first directive
    this.directives();
    if (opened && this.val() !== '}') throw this.syntaxErr('}');
  }

  private directives(): void {
    while (this.next()) {
      if (this.val() === '}') break;
      if (this.val() === 'import') {
        this.doImport();
        this.cursor--;
        continue;
      }
      this.directive();
    }
  }

  private directive(): void {
    const dirTok = this.current()!;
    const dir = this.env(dirTok.text);
    let nesting = 0;
    if (!this.valid.has(dir)) throw this.err(`Unknown directive '${dir}'`);
    let list = this.block.tokens.get(dir);
    if (!list) {
      list = [];
      this.block.tokens.set(dir, list);
    }
    list.push(this.publicToken(dirTok)); // the name token, unsubstituted
    while (this.next()) {
      const v = this.val();
      if (v === '{') {
        nesting++;
      } else if (this.isNewLine() && nesting === 0) {
        this.cursor--; // read too far
        break;
      } else if (v === '}' && nesting > 0) {
        nesting--;
      } else if (v === '}' && nesting === 0) {
        throw this.err("Unexpected '}' because no matching opening brace");
      } else if (v === 'import' && this.isNewLine()) {
        this.doImport();
        this.cursor--;
        continue;
      }
      const tok = this.tokens[this.cursor]!;
      tok.text = this.env(tok.text);
      list.push(this.publicToken(tok));
    }
    if (nesting > 0) throw this.err('Unexpected EOF');
  }

  /** Replaces `import ARG` (the current token) with the snippet's or files' tokens. */
  private doImport(): void {
    if (!this.nextArg()) throw this.argErr();
    const importPattern = this.env(this.val());
    if (importPattern === '') throw this.err('Import requires a non-empty filepath');
    if (this.nextArg()) throw this.err('Import takes only one argument (glob pattern or file)');
    const before = this.tokens.slice(0, this.cursor - 1);
    const after = this.tokens.slice(this.cursor + 1);
    let imported: PToken[] = [];

    const snippet = this.snippets.get(importPattern);
    if (snippet !== undefined) {
      if (this.snippetExpansions >= this.maxSnippets) {
        throw this.err(`maximum snippet import depth (${this.maxSnippets}) exceeded`);
      }
      this.snippetExpansions++;
      imported = snippet.map((t) => ({ ...t }));
    } else {
      if (this.fileExpansions >= this.maxFiles) {
        // (sic) CoreDNS prints the snippet limit here
        throw this.err(`maximum file import depth (${this.maxSnippets}) exceeded`);
      }
      this.fileExpansions++;
      const absFile = goAbs(this.curFile(), this.cwd);
      const globPattern = goIsAbs(importPattern) ? importPattern : goJoin(goDir(absFile), importPattern);
      if (
        count(globPattern, '*') > 1 ||
        count(globPattern, '?') > 1 ||
        (globPattern.includes('[') && globPattern.includes(']'))
      ) {
        throw this.err(`Glob pattern may only contain one wildcard (*), but has others: ${globPattern}`);
      }
      let matches: string[];
      try {
        matches = goGlob(globPattern, this.existsCache);
      } catch (e) {
        if (e instanceof BadPatternError) throw this.err(`Failed to use import pattern ${importPattern}: ${e.message}`);
        throw e;
      }
      if (matches.length === 0) {
        if (/[*?[\]]/.test(globPattern)) this.warn(`No files matching import glob pattern: ${importPattern}`);
        else throw this.err(`File to import not found: ${importPattern}`);
      }
      for (const importFile of matches) imported = imported.concat(this.singleImport(importFile));
    }

    this.tokens = before.concat(imported, after);
    this.cursor--;
  }

  /** Lexes one imported file; its tokens carry the file's absolute path. */
  private singleImport(importFile: string): PToken[] {
    const file = goAbs(importFile, this.cwd);
    const cached = this.fileCache.get(importFile);
    if (cached) return cached.map((t) => ({ text: t.text, file, line: t.line }));
    let data: Buffer;
    let fd: number;
    try {
      fd = openSync(importFile, 'r');
    } catch (e) {
      throw this.err(`Could not import ${importFile}: ${goPathError('open', importFile, e)}`);
    }
    try {
      let isDir: boolean;
      try {
        isDir = fstatSync(fd).isDirectory();
      } catch (e) {
        throw this.err(`Could not import ${importFile}: ${goPathError('stat', importFile, e)}`);
      }
      if (isDir) throw this.err(`Could not import ${importFile}: is a directory`);
      try {
        data = readFileSync(fd);
      } catch (e) {
        throw this.err(`Could not read tokens while importing ${importFile}: ${goPathError('read', importFile, e)}`);
      }
    } finally {
      closeSync(fd);
    }
    const lexed = lexTokens(decodeUtf8AsGo(data));
    this.fileCache.set(importFile, lexed);
    return lexed.map((t) => ({ text: t.text, file, line: t.line }));
  }

  private snippetName(): string | undefined {
    const keys = this.block.keys;
    if (keys.length === 1 && keys[0]!.startsWith('(') && keys[0]!.endsWith(')')) {
      const inner = keys[0]!.slice(1);
      return inner.endsWith(')') ? inner.slice(0, -1) : inner;
    }
    return undefined;
  }

  /** The raw tokens of a snippet body (between its braces). */
  private snippetTokens(): PToken[] {
    if (this.val() !== '{') throw this.syntaxErr('{');
    let depth = 1;
    const body: PToken[] = [];
    while (this.next()) {
      const v = this.val();
      if (v === '}') {
        depth--;
        if (depth === 0) break;
      }
      if (v === '{') depth++;
      body.push({ ...this.tokens[this.cursor]! });
    }
    if (depth !== 0) throw this.syntaxErr('}');
    return body;
  }
}

function newBlock(): BlockBuilder {
  return { keys: [], keyTokens: [], tokens: new Map() };
}

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * Parses a Corefile into server blocks with the caddyfile semantics CoreDNS
 * uses. Throws ConfigError (`FILE:LINE - Error during parsing: MSG` or
 * `FILE:LINE - Syntax error: ...`).
 */
export function parseCorefile(input: string, opts: ParseOptions): ServerBlock[] {
  return new Parser(input, opts).parseAll();
}
