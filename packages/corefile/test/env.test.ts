import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envLookup, parseCorefile, replaceEnvVars } from '../src/index.js';
import { COREDNS_DIRECTIVES, parse, parseError } from './helpers.js';

const env = { A: 'aa', B: 'bb', SP: 'a b', EMPTY: '', NL: 'x\ny', PORT: '1053' };
const sub = (s: string, e: Record<string, string | undefined> = env): string => replaceEnvVars(s, envLookup(e));

test('§3: both syntaxes, mid-token, several per token, mixed styles', () => {
  assert.equal(sub('{$A}'), 'aa');
  assert.equal(sub('{%A%}'), 'aa');
  assert.equal(sub('di{$A}r'), 'diaar');
  assert.equal(sub('{$A}:{$B}'), 'aa:bb');
  assert.equal(sub('{%A%}-{$B}'), 'aa-bb');
  assert.equal(sub('{$A}{$A}'), 'aaaa');
});

test('§3: undefined variables become empty', () => {
  assert.equal(sub('x{$NOPE}y'), 'xy');
  assert.equal(sub('{%NOPE%}'), '');
  assert.equal(sub(':{$PORT$}'), ':');
  assert.equal(sub('{$EMPTY}'), '');
});

test('§3: malformed references stay literal', () => {
  assert.equal(sub('{%ADDRESS}'), '{%ADDRESS}');
  assert.equal(sub('{$FOO'), '{$FOO');
  assert.equal(sub('$A'), '$A');
  assert.equal(sub('{A}'), '{A}');
  assert.equal(sub('%A%'), '%A%');
});

test('§3: an empty name stops that pass', () => {
  assert.equal(sub('{$}{$A}'), '{$}{$A}');
  assert.equal(sub('{%%}{%A%}'), '{%%}{%A%}');
  // the {$ pass still runs after an aborted {% pass
  assert.equal(sub('{%%}{$A}'), '{%%}aa');
  assert.equal(sub('{%}{$A}'), '{%}aa');
});

test('§3: the name runs to the first closing brace', () => {
  assert.equal(sub('{$A{$B}'), '', 'name is "A{$B"');
  assert.equal(sub('{$A}}'), 'aa}');
});

test('§3: {%…%} is processed before {$…}', () => {
  assert.equal(sub('{%X%}', { X: '{$A}', A: 'aa' }), 'aa');
  assert.equal(sub('{$X}', { X: '{%A%}', A: 'aa' }), '{%A%}');
});

test('§3: substituted values are scanned again (as in Go)', () => {
  assert.equal(sub('{$X}', { X: '{$Y}', Y: 'z' }), 'z');
});

test('§3: a self-referencing value is an error instead of a hang', () => {
  assert.throws(() => sub('{$X}', { X: '{$X}' }), /does not terminate/);
  parseError('. {\n  log {$X}\n}', 'Corefile:2 - Error during parsing: environment variable substitution does not terminate at {$X}', {
    env: { X: 'a{$X}' },
  });
});

test('§3: $ in values is not special', () => {
  assert.equal(sub('{$X}', { X: "$& $' $$" }), "$& $' $$");
});

test('§3: never re-tokenised', () => {
  const b = parse('x{$SP}y {\n  log {$SP} {$UNDEF} z\n}', { env })[0]!;
  assert.deepEqual(b.keys, ['xa by']);
  assert.deepEqual(b.tokens.get('log')!.map((t) => t.text), ['log', 'a b', '', 'z']);
});

test('§3: works inside quoted strings', () => {
  const b = parse('. {\n  log "{$A} {$B}"\n}', { env })[0]!;
  assert.equal(b.tokens.get('log')![1]!.text, 'aa bb');
});

test('§3: applied to keys and a key that becomes empty is skipped', () => {
  assert.deepEqual(parse('{$A}.org:{$PORT} {$EMPTY} {\n}', { env })[0]!.keys, ['aa.org:1053']);
});

test('§3: directive names are substituted; the name token is stored raw', () => {
  const b = parse('. {\n  {$D} arg{$A}\n}', { env: { D: 'log', A: '1' } })[0]!;
  assert.deepEqual([...b.tokens.keys()], ['log']);
  assert.deepEqual(b.tokens.get('log')!.map((t) => t.text), ['{$D}', 'arg1']);
  parseError('. {\n  {$D}\n}', "Corefile:2 - Error during parsing: Unknown directive 'Log'", { env: { D: 'Log' } });
  parseError('. {\n  {$D}\n}', "Corefile:2 - Error during parsing: Unknown directive ''", { env: {} });
});

test('§3: nested block tokens are substituted', () => {
  const b = parse('. {\n  forward . {$UP} {\n    max_fails {$N}\n  }\n}', { env: { UP: '1.1.1.1', N: '3' } })[0]!;
  assert.deepEqual(b.tokens.get('forward')!.map((t) => t.text), ['forward', '.', '1.1.1.1', '{', 'max_fails', '3', '}']);
});

test('§3: a variable holding a brace is not a brace for the parser', () => {
  // The key loop stops at the substituted "{", but the block-opening check
  // compares the raw text, so the token is then read as a directive.
  parseError('. {$O}\n  log\n}', "Corefile:1 - Error during parsing: Unknown directive '{'", { env: { O: '{' } });
  // ... nested-block tracking in a directive compares the raw text.
  const b = parse('. {\n  log {$O}\n}', { env: { O: '{' } })[0]!;
  assert.deepEqual(b.tokens.get('log')!.map((t) => t.text), ['log', '{']);
});

test('§3: the import keyword itself may come from a variable at key position', () => {
  assert.throws(() => parse('{$I} nothing-here', { env: { I: 'import' }, cwd: '/nonexistent-dir-for-test' }), {
    message: 'Corefile:1 - Error during parsing: File to import not found: nothing-here',
  });
});

test('§3: a newline introduced by a variable joins the next line (line arithmetic on text)', () => {
  // caddy counts the newlines of the substituted text when deciding whether
  // the next token is on a new line.
  const b = parse('. {\n  log {$NL}\n  errors\n}', { env })[0]!;
  assert.deepEqual(b.tokens.get('log')!.map((t) => t.text), ['log', 'x\ny', 'errors']);
});

test('§3: default environment is process.env', () => {
  process.env.TSDNS_COREFILE_TEST_VAR = 'fromenv';
  try {
    const [b] = parseCorefile('{$TSDNS_COREFILE_TEST_VAR} {\n}', { filename: 'Corefile', validDirectives: COREDNS_DIRECTIVES });
    assert.deepEqual(b!.keys, ['fromenv']);
  } finally {
    delete process.env.TSDNS_COREFILE_TEST_VAR;
  }
});

test('§3: inherited object properties are not variables', () => {
  assert.equal(sub('{$toString}{$constructor}', {}), '');
});
