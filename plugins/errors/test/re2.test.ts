import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGoRegexp, GoRegexpError, translateGoRegexp } from '../src/index.js';

function goError(expr: string): string {
  try {
    compileGoRegexp(expr);
  } catch (e) {
    assert.ok(e instanceof GoRegexpError, String(e));
    return e.message;
  }
  return 'compiled';
}

function matches(expr: string, s: string): boolean {
  return compileGoRegexp(expr).matchString(s);
}

test('Go parse errors, with Go texts', () => {
  const cases: [string, string][] = [
    ['())', 'unexpected ): `())`'],
    ['a)', 'unexpected ): `a)`'],
    ['a|b)', 'unexpected ): `a|b)`'],
    ['(abc', 'missing closing ): `(abc`'],
    ['((a)', 'missing closing ): `((a)`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a*?*', 'invalid nested repetition operator: `*?*`'],
    ['a++', 'invalid nested repetition operator: `++`'],
    ['x{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a|*', 'missing argument to repetition operator: `*`'],
    ['(+)', 'missing argument to repetition operator: `+`'],
    ['(?i)*', 'missing argument to repetition operator: `*`'],
    ['??', 'missing argument to repetition operator: `??`'],
    ['x{1001}', 'invalid repeat count: `{1001}`'],
    ['x{2,1}', 'invalid repeat count: `{2,1}`'],
    ['x{100000000}', 'invalid repeat count: `{100000000}`'],
    ['(a{100}){20}', 'invalid repeat count: `{20}`'],
    ['((a{10}){10}){11}', 'invalid repeat count: `{11}`'],
    ['{1001}', 'invalid repeat count: `{1001}`'],
    ['(?=x)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?!x)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?x)', 'invalid or unsupported Perl syntax: `(?x`'],
    ['(?', 'invalid or unsupported Perl syntax: `(?`'],
    ['(?i', 'invalid or unsupported Perl syntax: `(?i`'],
    ['(?-)', 'invalid or unsupported Perl syntax: `(?-)`'],
    ['(?i-)', 'invalid or unsupported Perl syntax: `(?i-)`'],
    ['(?--i)', 'invalid or unsupported Perl syntax: `(?--`'],
    ['(?P=n)', 'invalid or unsupported Perl syntax: `(?P`'],
    ['(?<=x)', 'invalid named capture: `(?<=x)`'],
    ['(?<!x)a>', 'invalid named capture: `(?<!x)a>`'],
    ['(?P<>a)', 'invalid named capture: `(?P<>`'],
    ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
    ['(?P<name', 'invalid named capture: `(?P<name`'],
    ['\\1', 'invalid escape sequence: `\\1`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['\\8', 'invalid escape sequence: `\\8`'],
    ['\\q', 'invalid escape sequence: `\\q`'],
    ['\\Z', 'invalid escape sequence: `\\Z`'],
    ['\\C', 'invalid escape sequence: `\\C`'],
    ['\\x', 'invalid escape sequence: `\\x`'],
    ['\\xZ', 'invalid escape sequence: `\\xZ`'],
    ['\\xZZ', 'invalid escape sequence: `\\xZZ`'],
    ['\\x{zz}', 'invalid escape sequence: `\\x{z`'],
    ['\\x{}', 'invalid escape sequence: `\\x{}`'],
    ['\\x{110000}', 'invalid escape sequence: `\\x{110000`'],
    ['\\x{41', 'invalid escape sequence: `\\x{41`'],
    ['\\\u00e9', 'invalid escape sequence: `\\\u00e9`'],
    ['[\\b]', 'invalid escape sequence: `\\b`'],
    ['[a-\\d]', 'invalid escape sequence: `\\d`'],
    ['\\', 'trailing backslash at end of expression: ``'],
    ['a\\', 'trailing backslash at end of expression: ``'],
    ['[a', 'missing closing ]: `[a`'],
    ['x[a', 'missing closing ]: `[a`'],
    ['[]', 'missing closing ]: `[]`'],
    ['[^]', 'missing closing ]: `[^]`'],
    ['[a-', 'missing closing ]: `[a-`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['[a-b-a]', 'compiled'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
    ['[[:alpha:]', 'missing closing ]: `[[:alpha:]`'],
    ['\\p', 'invalid character class range: `\\p`'],
    ['\\pX', 'invalid character class range: `\\pX`'],
    ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
    ['\\p{Greek', 'invalid character class range: `\\p{Greek`'],
    ['[\\p{Foo}]', 'invalid character class range: `\\p{Foo}`'],
  ];
  for (const [expr, want] of cases) {
    assert.equal(goError(expr), want === 'compiled' ? 'compiled' : `error parsing regexp: ${want}`, expr);
  }
});

test('what Go accepts compiles', () => {
  for (const expr of [
    '',
    '.* i/o timeout$',
    '^Failed to .+',
    '(?P<name>a)',
    '(?<name>a)',
    '(?<1x>a)',
    '(?i)abc',
    '(?i:a)b',
    '(?is-m:a.)',
    '(?U)a+',
    'a{,3}',
    'a{01}',
    '{',
    'a{',
    'a{1',
    'a{1,',
    '^*',
    '$+',
    '\\b?',
    '\\Qa.b\\E+',
    '\\Q(unclosed',
    '[]a]',
    '[^]a]',
    '[a-]',
    '[-a]',
    '[\\d-z]',
    '[[:alpha:][:^digit:]\\pL\\x{41}-\\x{5A}]',
    '\\pL\\p{Lu}\\PL\\p{^Greek}\\p{Greek}\\pN\\p{Any}\\p{ASCII}\\p{Letter}\\p{greek}',
    '\\a\\f\\t\\n\\r\\v\\0\\07\\101\\x41\\x{1F600}',
    '\\_\\-\\.\\*',
    '(|a)',
    'a||b',
    '()',
    'x{1000}',
    '(a{10}){100}',
    'x{0}',
  ]) {
    assert.equal(goError(expr), 'compiled', expr);
  }
});

test('matching follows Go semantics', () => {
  const cases: [string, string, boolean][] = [
    ['.* i/o timeout$', 'read udp 1.2.3.4:53: i/o timeout', true],
    ['.* i/o timeout$', 'i/o timeout', false],
    ['^Failed to .+', 'Failed to connect', true],
    ['^Failed to .+', 'xFailed to connect', false],
    // . matches \r but not \n; (?s) makes it match \n
    ['^a.b$', 'a\rb', true],
    ['^a.b$', 'a\nb', false],
    ['(?s)^a.b$', 'a\nb', true],
    ['^a.b$', 'a\u2028b', true],
    // $ is the end of text without (?m); with (?m) it also matches before \n (only \n)
    ['a$', 'a\n', false],
    ['(?m)a$', 'a\nb', true],
    ['(?m)a$', 'a\rb', false],
    ['(?m)^b', 'a\nb', true],
    ['(?m)^b', 'a\u2028b', false],
    ['^b', 'a\nb', false],
    ['\\Ab', 'b', true],
    ['a\\z', 'a\n', false],
    // case folding, scoped
    ['(?i)TIMEOUT', 'i/o timeout', true],
    ['(?i:T)imeout', 'timeout', true],
    ['(?i:T)imeout', 'tIMEOUT', false],
    ['a(?i)b', 'aB', true],
    ['a(?i)b', 'AB', false],
    ['(?i)k', '\u212a', true],
    ['x(?i)k', 'x\u212a', true],
    ['(?i)[^k]', 'K', false],
    ['(?i)\\W', 'k', false],
    ['(?i)\\W', '\u017f', false],
    ['(?i)[\\W]', 'S', false],
    ['(?i)[[:upper:]]', 'q', true],
    ['[[:upper:]]', 'q', false],
    // ASCII-only Perl classes
    ['\\d', '\u0663', false],
    ['\\s', '\u00a0', false],
    ['\\s', '\v', false],
    ['[[:space:]]', '\v', true],
    ['\\w', '\u00e9', false],
    ['\\pL', '\u00e9', true],
    ['\\p{Greek}', '\u03b1', true],
    ['\\P{Greek}', '\u03b1', false],
    ['\\p{^Greek}', 'a', true],
    ['[^\\d]', '5', false],
    ['[\\D]', 'x', true],
    // escapes and literals
    ['\\Qa.b\\E', 'axb', false],
    ['\\Qa.b\\E', 'a.b', true],
    ['a{,3}', 'a{,3}', true],
    ['\\x{1F600}', 'x\u{1f600}', true],
    ['^.$', '\u{1f600}', true],
    ['\\101', 'A', true],
    ['^[a-]+$', 'a-a', true],
    ['^(?:a|bc)*$', 'abcbca', true],
    ['^x{2,3}$', 'xxxx', false],
    ['^x{2,3}$', 'xxx', true],
    ['(?U)^a+$', 'aaa', true],
    ['', 'anything', true],
    ['\\bfoo\\b', 'a foo b', true],
    ['\\bfoo\\b', 'afoob', false],
  ];
  for (const [expr, s, want] of cases) assert.equal(matches(expr, s), want, `${expr} ~ ${JSON.stringify(s)}`);
});

test('translation keeps the pattern text for String()', () => {
  const re = compileGoRegexp('(?i)^read udp .* i/o timeout$');
  assert.equal(re.expr, '(?i)^read udp .* i/o timeout$');
  assert.equal(String(re), '(?i)^read udp .* i/o timeout$');
  assert.deepEqual(translateGoRegexp('^a.b$'), { source: '^a[^\\n]b$', flags: 'u' });
  assert.deepEqual(translateGoRegexp('(?i)ab'), { source: 'ab', flags: 'iu' });
});
