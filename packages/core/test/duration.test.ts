import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DurationError,
  formatFloatShortest,
  formatGoDuration,
  formatGoDurationNs,
  goDurationQuote,
  goDurationSeconds,
  msToNs,
  parseGoDuration,
  parseGoDurationNs,
} from '../src/duration.js';

test('parseGoDurationNs accepts what time.ParseDuration accepts', () => {
  const cases: [string, bigint][] = [
    ['0', 0n],
    ['-0', 0n],
    ['+0', 0n],
    ['5s', 5_000_000_000n],
    ['30s', 30_000_000_000n],
    ['1478s', 1_478_000_000_000n],
    ['-5s', -5_000_000_000n],
    ['+5s', 5_000_000_000n],
    ['-0s', 0n],
    ['5.0s', 5_000_000_000n],
    ['5.6s', 5_600_000_000n],
    ['5.s', 5_000_000_000n],
    ['.5s', 500_000_000n],
    ['1.0s', 1_000_000_000n],
    ['1.00s', 1_000_000_000n],
    ['1.004s', 1_004_000_000n],
    ['1.0040s', 1_004_000_000n],
    ['100.00100s', 100_001_000_000n],
    ['10ns', 10n],
    ['11us', 11_000n],
    ['12\u00b5s', 12_000n],
    ['12\u03bcs', 12_000n],
    ['13ms', 13_000_000n],
    ['14s', 14_000_000_000n],
    ['15m', 900_000_000_000n],
    ['16h', 57_600_000_000_000n],
    ['3h30m', 12_600_000_000_000n],
    ['10.5s4m', 250_500_000_000n],
    ['-2m3.4s', -123_400_000_000n],
    ['1h2m3s4ms5us6ns', 3_723_004_005_006n],
    ['39h9m14.425s', 140_954_425_000_000n],
    ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 1_200_000_000_000n],
    ['9007199254740993ns', 9_007_199_254_740_993n],
    ['9223372036854775807ns', 9_223_372_036_854_775_807n],
    ['9223372036854775.807us', 9_223_372_036_854_775_807n],
    ['9223372036s854ms775us807ns', 9_223_372_036_854_775_807n],
    ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
    ['-9223372036854775.808us', -9_223_372_036_854_775_808n],
    ['0.100000000000000000000h', 360_000_000_000n],
    ['0.830103483285477580700h', 2_988_372_539_827n],
    ['1.0000000001s', 1_000_000_000n],
  ];
  for (const [s, want] of cases) assert.equal(parseGoDurationNs(s), want, s);
});

test('parseGoDurationNs rejects with Go error texts', () => {
  const cases: [string, string][] = [
    ['', 'time: invalid duration ""'],
    ['3', 'time: missing unit in duration "3"'],
    ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'],
    ['.', 'time: invalid duration "."'],
    ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'],
    ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['1e3s', 'time: unknown unit "e" in duration "1e3s"'],
    ['5m1', 'time: missing unit in duration "5m1"'],
    ['abc', 'time: invalid duration "abc"'],
    ['1s ', 'time: unknown unit "s " in duration "1s "'],
    ['\x85\x85', 'time: invalid duration "\\xc2\\x85\\xc2\\x85"'],
    ['\xffff', 'time: invalid duration "\\xc3\\xbfff"'],
    ['"1s"', 'time: invalid duration "\\"1s\\""'],
    ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['9223372036854ms775us808ns', 'time: invalid duration "9223372036854ms775us808ns"'],
    ['-9223372036854775809ns', 'time: invalid duration "-9223372036854775809ns"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ];
  for (const [s, msg] of cases) {
    assert.throws(
      () => parseGoDurationNs(s),
      (e: unknown) => e instanceof DurationError && e.message === msg,
      `${JSON.stringify(s)} -> ${msg}`,
    );
  }
});

test('parseGoDuration returns milliseconds', () => {
  assert.equal(parseGoDuration('5m'), 300_000);
  assert.equal(parseGoDuration('1.5s'), 1_500);
  assert.equal(parseGoDuration('250us'), 0.25);
  assert.equal(parseGoDuration('1ns'), 0.000001);
  assert.equal(parseGoDuration('-2h'), -7_200_000);
  assert.equal(parseGoDuration('5001ms'), 5_001);
  assert.throws(() => parseGoDuration('5'), /^DurationError: time: missing unit in duration "5"$/);
});

test('formatGoDurationNs prints like Duration.String()', () => {
  const cases: [bigint, string][] = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_100n, '1.1\u00b5s'],
    [2_200_000n, '2.2ms'],
    [3_300_000_000n, '3.3s'],
    [240_000_000_000n, '4m0s'],
    [245_000_000_000n, '4m5s'],
    [245_001_000_000n, '4m5.001s'],
    [300_000_000_000n, '5m0s'],
    [18_000_000_000_000n, '5h0m0s'],
    [18_004_000_000_000n, '5h0m4s'],
    [18_245_001_000_000n, '5h4m5.001s'],
    [30_000_000_000n, '30s'],
    [1_500_000_000n, '1.5s'],
    [300_000_000n, '300ms'],
    [8_000_000_000_000_000n, '2222h13m20s'],
    [9_223_372_036_854_775_807n, '2562047h47m16.854775807s'],
    [-1n, '-1ns'],
    [-90_000_000_000n, '-1m30s'],
    [-9_223_372_036_854_775_808n, '-2562047h47m16.854775808s'],
  ];
  for (const [ns, want] of cases) assert.equal(formatGoDurationNs(ns), want, String(ns));
});

test('formatGoDuration takes milliseconds', () => {
  assert.equal(formatGoDuration(300_000), '5m0s');
  assert.equal(formatGoDuration(1_500), '1.5s');
  assert.equal(formatGoDuration(300), '300ms');
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(0.002), '2\u00b5s');
  assert.equal(formatGoDuration(5_001), '5.001s');
  assert.equal(formatGoDuration(72 * 3_600_000 + 3 * 60_000 + 500), '72h3m0.5s');
  assert.equal(formatGoDuration(-90_000), '-1m30s');
  assert.equal(formatGoDuration(Infinity), '2562047h47m16.854775807s');
  // round trip
  for (const s of ['5m0s', '1.5s', '300ms', '1h0m0s', '2.5\u00b5s', '17ns', '1m30.25s']) {
    assert.equal(formatGoDuration(parseGoDuration(s)), s);
  }
});

test('msToNs rounds to whole nanoseconds and clamps', () => {
  assert.equal(msToNs(1), 1_000_000n);
  assert.equal(msToNs(0.1), 100_000n);
  assert.equal(msToNs(-0.0000016), -2n);
  assert.equal(msToNs(NaN), 0n);
  assert.equal(msToNs(-Infinity), -9_223_372_036_854_775_808n);
});

test('goDurationSeconds is Duration.Seconds()', () => {
  assert.equal(goDurationSeconds(123_000n), 0.000123);
  assert.equal(goDurationSeconds(37_990_251n), 0.037990251);
  assert.equal(goDurationSeconds(1_500_000_000n), 1.5);
});

test('formatFloatShortest is strconv.FormatFloat(x, f, -1, 64)', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [0.000123, '0.000123'],
    [0.037990251, '0.037990251'],
    [1e-7, '0.0000001'],
    [1.5e-7, '0.00000015'],
    [1.23456789e-9, '0.00000000123456789'],
    [-2.5e-8, '-0.000000025'],
    [123.456, '123.456'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [1 / 3, '0.3333333333333333'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ];
  for (const [x, want] of cases) assert.equal(formatFloatShortest(x), want, String(x));
});

test('goDurationQuote is time.quote', () => {
  assert.equal(goDurationQuote('abc'), '"abc"');
  assert.equal(goDurationQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goDurationQuote('\u00b5'), '"\\xc2\\xb5"');
  assert.equal(goDurationQuote('\t'), '"\\x09"');
  assert.equal(goDurationQuote('\u{1f600}'), '"\\xf0\\x9f\\x98\\x80"');
});
