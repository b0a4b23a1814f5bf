import { ConfigError, type Token } from './corefile-types.js';

/**
 * Walks the tokens of one directive (all its occurrences in a server block) the
 * way CoreDNS plugin setup code does: `next()` moves to the next token
 * anywhere, `nextArg()` only along the current line, `nextBlock()` through a
 * `{ ... }` block that opens on the directive's line.
 */
export class Dispenser {
  protected readonly filename: string;
  protected readonly tokens: readonly Token[];
  protected cursor = -1;
  protected nesting = 0;

  constructor(filename: string, tokens: readonly Token[]) {
    this.filename = filename;
    this.tokens = tokens;
  }

  /** Advances to the next token, crossing lines. False at the end. */
  next(): boolean {
    if (this.cursor < this.tokens.length - 1) {
      this.cursor++;
      return true;
    }
    return false;
  }

  /** Advances only if the next token is on the same line (same file). */
  nextArg(): boolean {
    if (!argFollows(this.tokens, this.cursor)) return false;
    this.cursor++;
    return true;
  }

  /** Advances only if the next token starts a new line. */
  nextLine(): boolean {
    const ok = this.cursor < 0 || (this.cursor < this.tokens.length - 1 && startsLine(this.tokens, this.cursor + 1));
    if (ok) this.cursor++;
    return ok;
  }

  /**
   * Iterates the lines of a block that opens with `{` on the current line:
   * `while (c.nextBlock()) { c.val() ... }`. False when the block closes, or
   * when there is no block.
   */
  nextBlock(): boolean {
    if (this.nesting > 0) {
      if (!this.next()) return false;
      if (this.val() === '}') {
        this.nesting--;
        return false;
      }
      return true;
    }
    if (!this.nextArg()) return false;
    if (this.val() !== '{') {
      this.cursor--;
      return false;
    }
    if (!this.next()) return false;
    if (this.val() === '}') return false;
    this.nesting++;
    return true;
  }

  /** Current nesting depth inside `nextBlock()` blocks. */
  get nestingLevel(): number {
    return this.nesting;
  }

  /** Text of the current token ('' before the first or after the last). */
  val(): string {
    if (this.cursor < 0 || this.cursor >= this.tokens.length) return '';
    return this.tokens[this.cursor]!.text;
  }

  /** Line of the current token (0 outside the token list). */
  line(): number {
    if (this.cursor < 0 || this.cursor >= this.tokens.length) return 0;
    return this.tokens[this.cursor]!.line;
  }

  /** File of the current token. */
  file(): string {
    if (this.cursor < 0 || this.cursor >= this.tokens.length) return this.filename;
    return this.tokens[this.cursor]!.file || this.filename;
  }

  /** Line of the first token (the directive name), 0 if there are none. */
  firstLine(): number {
    return this.tokens[0]?.line ?? 0;
  }

  /** Reads the next `n` arguments on the line; undefined if there are fewer. */
  args(n: number): string[] | undefined {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!this.nextArg()) return undefined;
      out.push(this.val());
    }
    return out;
  }

  /** All remaining arguments on the current line, stopping before a `{`. */
  remainingArgs(): string[] {
    const out: string[] = [];
    while (this.nextArg()) {
      if (this.val() === '{') {
        this.cursor--;
        break;
      }
      out.push(this.val());
    }
    return out;
  }

  /** True when the current token is the first on its line. */
  isNewLine(): boolean {
    return startsLine(this.tokens, this.cursor);
  }

  /** `Wrong argument count or unexpected line ending after 'X'`. */
  argErr(): ConfigError {
    if (this.val() === '{') return this.err("Unexpected token '{', expecting argument");
    return this.err(`Wrong argument count or unexpected line ending after '${this.val()}'`);
  }

  /** `FILE:LINE - Syntax error: Unexpected token 'X', expecting 'Y'`. */
  syntaxErr(expected: string): ConfigError {
    return ConfigError.syntax(this.file(), this.line(), this.val(), expected);
  }

  /** `FILE:LINE - Error during parsing: Unexpected EOF`. */
  eofErr(): ConfigError {
    return this.err('Unexpected EOF');
  }

  /** `FILE:LINE - Error during parsing: MSG`. */
  err(msg: string): ConfigError {
    return ConfigError.parsing(this.file(), this.line(), msg);
  }

  /** Same as `err`; kept for plugins ported from Go (`c.Errf`). */
  errf(msg: string): ConfigError {
    return this.err(msg);
  }
}

/** Where a token stands: its text (which may span lines), file and first line. */
type TokenPos = Pick<Token, 'text' | 'file' | 'line'>;

/**
 * caddyfile's `NextArg` test, shared with the Corefile parser: whether the
 * cursor may move on from `cursor` to an argument - before the first token
 * always, otherwise to a next token on the line where the current one ends.
 */
export function argFollows(tokens: readonly TokenPos[], cursor: number): boolean {
  if (cursor < 0) return true;
  if (cursor >= tokens.length - 1) return false;
  const cur = tokens[cursor]!;
  const nxt = tokens[cursor + 1]!;
  return cur.file === nxt.file && cur.line + lineBreaks(cur.text) === nxt.line;
}

/** caddyfile's `isNewLine`: the token at `cursor` is the first on its line (true before the first token). */
export function startsLine(tokens: readonly TokenPos[], cursor: number): boolean {
  if (cursor < 1) return true;
  if (cursor > tokens.length - 1) return false;
  const prev = tokens[cursor - 1]!;
  const cur = tokens[cursor]!;
  return prev.file !== cur.file || prev.line + lineBreaks(prev.text) < cur.line;
}

function lineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
