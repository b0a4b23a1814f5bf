import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8AsGo, lex, lexTokens } from '../src/index.js';

/** [text, line] pairs of the tokens of `input`. */
function tl(input: string): [string, number][] {
  return lexTokens(input).map((t) => [t.text, t.line]);
}

function texts(input: string): string[] {
  return lexTokens(input).map((t) => t.text);
}

// --- caddyfile/lexer_test.go ----------------------------------------------

test('caddy lexer: single token', () => {
  assert.deepEqual(tl('host:123'), [['host:123', 1]]);
});

test('caddy lexer: blank line and indentation', () => {
  assert.deepEqual(tl('host:123\n\n\t\t\t\t\tdirective'), [
    ['host:123', 1],
    ['directive', 3],
  ]);
});

test('caddy lexer: block over three lines', () => {
  assert.deepEqual(tl('host:123 {\n\t\t\t\t\t\tdirective\n\t\t\t\t\t}'), [
    ['host:123', 1],
    ['{', 1],
    ['directive', 2],
    ['}', 3],
  ]);
});

test('caddy lexer: block on one line', () => {
  assert.deepEqual(tl('host:123 { directive }'), [
    ['host:123', 1],
    ['{', 1],
    ['directive', 1],
    ['}', 1],
  ]);
});

test('caddy lexer: comments', () => {
  const input = 'host:123 {\n\t#comment\n\tdirective\n\t# comment\n\tfoobar # another comment\n}';
  assert.deepEqual(tl(input), [
    ['host:123', 1],
    ['{', 1],
    ['directive', 3],
    ['foobar', 5],
    ['}', 6],
  ]);
});

test('caddy lexer: quoted value', () => {
  assert.deepEqual(tl('a "quoted value" b\n\t\t\t\t\tfoobar'), [
    ['a', 1],
    ['quoted value', 1],
    ['b', 1],
    ['foobar', 2],
  ]);
});

test('caddy lexer: escaped quotes inside quotes', () => {
  assert.deepEqual(tl('A "quoted \\"value\\" inside" B'), [
    ['A', 1],
    ['quoted "value" inside', 1],
    ['B', 1],
  ]);
});

test('caddy lexer: backslash before another character is kept', () => {
  assert.deepEqual(tl('"don\'t\\escape"'), [["don't\\escape", 1]]);
  assert.deepEqual(tl('"don\'t\\\\escape"'), [["don't\\\\escape", 1]]);
  assert.deepEqual(tl('"C:\\php\\php-cgi.exe"'), [['C:\\php\\php-cgi.exe', 1]]);
});

test('caddy lexer: newline inside quotes', () => {
  assert.deepEqual(tl('A "quoted value with line\n\t\t\t\t\tbreak inside" {\n\t\t\t\t\t\tfoobar\n\t\t\t\t\t}'), [
    ['A', 1],
    ['quoted value with line\n\t\t\t\t\tbreak inside', 1],
    ['{', 2],
    ['foobar', 3],
    ['}', 4],
  ]);
});

test('caddy lexer: empty quoted string', () => {
  assert.deepEqual(tl('empty "" string'), [
    ['empty', 1],
    ['', 1],
    ['string', 1],
  ]);
});

test('caddy lexer: CR characters are skipped', () => {
  assert.deepEqual(tl('skip those\r\nCR characters'), [
    ['skip', 1],
    ['those', 1],
    ['CR', 2],
    ['characters', 2],
  ]);
});

test('caddy lexer: leading byte order mark', () => {
  assert.deepEqual(tl('\uFEFF:8080'), [[':8080', 1]]);
});

test('caddy allTokens: whitespace-only inputs give no tokens', () => {
  assert.deepEqual(texts('a b c\nd e'), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(texts(''), []);
  assert.deepEqual(texts('\n'), []);
  assert.deepEqual(texts(' '), []);
  assert.deepEqual(texts('\t\n'), []);
});

// --- spec section 1 -------------------------------------------------------

test('lexer: only a leading BOM is dropped', () => {
  assert.deepEqual(texts('a \uFEFFb'), ['a', '\uFEFFb']);
  assert.deepEqual(texts('\uFEFF\uFEFFa'), ['\uFEFFa']);
});

test('lexer: Go unicode.IsSpace separates tokens', () => {
  const spaces = ['\t', '\v', '\f', ' ', '\u0085', '\u00A0', '\u1680', '\u2000', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000'];
  for (const sp of spaces) assert.deepEqual(tl(`a${sp}b`), [['a', 1], ['b', 1]], `U+${sp.codePointAt(0)!.toString(16)}`);
  // not whitespace for Go: zero-width space, BOM in the middle
  assert.deepEqual(texts('a\u200Bb'), ['a\u200Bb']);
  // only \n counts lines
  assert.deepEqual(tl('a\u2028b\vc\nd'), [['a', 1], ['b', 1], ['c', 1], ['d', 2]]);
});

test('lexer: \\r is dropped, neither ending nor kept in a token', () => {
  assert.deepEqual(tl('a\rb c'), [['ab', 1], ['c', 1]]);
  assert.deepEqual(tl('\r\ra\r\r\n\rb\r'), [['a', 1], ['b', 2]]);
});

test('lexer: \\r inside quotes is kept', () => {
  assert.deepEqual(texts('"a\rb" c'), ['a\rb', 'c']);
  assert.deepEqual(texts('"a\\\rb"'), ['a\\\rb']);
});

test('lexer: # starts a comment at the start of a token', () => {
  assert.deepEqual(tl('a #b c\nd'), [['a', 1], ['d', 2]]);
  assert.deepEqual(tl('#only\n#comments'), []);
  assert.deepEqual(tl('hosts {\n 1.2.3.4 a # comment } not closing\n }'), [
    ['hosts', 1],
    ['{', 1],
    ['1.2.3.4', 2],
    ['a', 2],
    ['}', 3],
  ]);
});

test('lexer: # inside a word ends the word and hides the rest of that word', () => {
  assert.deepEqual(texts('foo#bar'), ['foo']);
  // caddy's lexer only stays in comment mode until the whitespace that
  // emits the word: the next word is a token again (lexer.go, next()).
  assert.deepEqual(tl('foo#bar baz\nqux'), [['foo', 1], ['baz', 1], ['qux', 2]]);
  assert.deepEqual(texts('foo#"bar baz"'), ['foo', 'baz"']);
  assert.deepEqual(texts('a#b\rc d'), ['a', 'd']);
});

test('lexer: # is literal inside quotes', () => {
  assert.deepEqual(texts('"a # b" c'), ['a # b', 'c']);
});

test('lexer: a quote opens a quoted token only at the start of a token', () => {
  assert.deepEqual(texts('a"b c"'), ['a"b', 'c"']);
  assert.deepEqual(texts('"a"b'), ['a', 'b']);
  assert.deepEqual(texts('"a""b"'), ['a', 'b']);
  assert.deepEqual(texts('a\\"b'), ['a\\"b']);
});

test('lexer: escaped backslash before a quote', () => {
  assert.deepEqual(texts('"a\\\\"b"'), ['a\\\\', 'b"']);
});

test('lexer: quoted tokens keep their opening line', () => {
  assert.deepEqual(tl('x\n"a\nb\nc" d\ne'), [
    ['x', 1],
    ['a\nb\nc', 2],
    ['d', 4],
    ['e', 5],
  ]);
});

test('lexer: unterminated quote at EOF is emitted when not empty', () => {
  assert.deepEqual(texts('"unterminated'), ['unterminated']);
  assert.deepEqual(texts('a "multi\nline'), ['a', 'multi\nline']);
  assert.deepEqual(texts('a "'), ['a']);
  assert.deepEqual(texts('a "\\'), ['a']);
  assert.deepEqual(texts('"abc\\'), ['abc']);
});

test('lexer: braces are not special', () => {
  assert.deepEqual(texts('example.org{'), ['example.org{']);
  assert.deepEqual(texts('{}'), ['{}']);
  assert.deepEqual(texts('{ }'), ['{', '}']);
  assert.deepEqual(texts('"{"'), ['{']);
});

test('lexer: quoted flag', () => {
  assert.deepEqual(
    lexTokens('a "b" ""').map((t) => t.quoted),
    [false, true, true],
  );
});

test('lex() tags tokens with the file name', () => {
  assert.deepEqual(lex('. {\n  whoami\n}', 'Corefile'), [
    { text: '.', file: 'Corefile', line: 1 },
    { text: '{', file: 'Corefile', line: 1 },
    { text: 'whoami', file: 'Corefile', line: 2 },
    { text: '}', file: 'Corefile', line: 3 },
  ]);
});

test('lexer: non-BMP characters stay intact', () => {
  assert.deepEqual(texts('\u{1F600}a "\\\u{1F600}"'), ['\u{1F600}a', '\\\u{1F600}']);
});

test('decodeUtf8AsGo: invalid bytes become one U+FFFD each', () => {
  assert.equal(decodeUtf8AsGo(Buffer.from('héllo', 'utf8')), 'héllo');
  assert.equal(decodeUtf8AsGo(Uint8Array.from([0x61, 0xff, 0x62])), 'a\uFFFDb');
  // truncated 3-byte sequence: Go yields one replacement per byte
  assert.equal(decodeUtf8AsGo(Uint8Array.from([0xe2, 0x82, 0x61])), '\uFFFD\uFFFDa');
  // UTF-8 encoded surrogate is invalid in Go
  assert.equal(decodeUtf8AsGo(Uint8Array.from([0xed, 0xa0, 0x80])), '\uFFFD\uFFFD\uFFFD');
  assert.equal(decodeUtf8AsGo(Uint8Array.from([0xf0, 0x9f, 0x98, 0x80, 0xc0])), '\u{1F600}\uFFFD');
});
