import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, DNSSEC_OK, newOpt, Request, type Msg } from '@tsdns/core';
import { formatDurationSeconds, formatFlags, parseFormat, Replacer, type ReplacerInput } from '../src/index.js';
import { FakeWriter, query } from './helpers.js';

function input(over: Partial<ReplacerInput> & { r?: Msg; w?: FakeWriter } = {}): ReplacerInput {
  const r = over.r ?? query('example.org.');
  const w = over.w ?? new FakeWriter();
  return {
    ctx: over.ctx ?? Context.background(),
    state: over.state ?? new Request(r, w),
    reply: 'reply' in over ? over.reply : { flags: 0x8000 | 0x0400 | 0x0100, rcode: 0 },
    rsize: over.rsize ?? 59,
    durationNs: over.durationNs ?? 123_000,
  };
}

function render(format: string, i: ReplacerInput = input()): string {
  return new Replacer(format).replace(i);
}

test('parseFormat pairs the first } with the last { before it', () => {
  assert.deepEqual(parseFormat('{type}'), [{ kind: 'label', value: '{type}' }]);
  assert.deepEqual(parseFormat('A {type} B'), [
    { kind: 'literal', value: 'A ' },
    { kind: 'label', value: '{type}' },
    { kind: 'literal', value: ' B' },
  ]);
  assert.deepEqual(parseFormat('{{remote}}'), [
    { kind: 'literal', value: '{' },
    { kind: 'label', value: '{remote}' },
    { kind: 'literal', value: '}' },
  ]);
  assert.deepEqual(parseFormat('A } {type}'), [
    { kind: 'literal', value: 'A } ' },
    { kind: 'label', value: '{type}' },
  ]);
  assert.deepEqual(parseFormat('x {unknown} y'), [{ kind: 'literal', value: 'x {unknown} y' }]);
  assert.deepEqual(parseFormat('{/forward/upstream}'), [{ kind: 'metadata', value: 'forward/upstream' }]);
  assert.deepEqual(parseFormat('{/}'), [{ kind: 'metadata', value: '' }]);
  assert.deepEqual(parseFormat('{ {name} }'), [
    { kind: 'literal', value: '{ ' },
    { kind: 'label', value: '{name}' },
    { kind: 'literal', value: ' }' },
  ]);
  assert.deepEqual(parseFormat('no braces'), [{ kind: 'literal', value: 'no braces' }]);
  assert.deepEqual(parseFormat(''), []);
  assert.deepEqual(parseFormat('{type'), [{ kind: 'literal', value: '{type' }]);
  // labels are case-sensitive
  assert.deepEqual(parseFormat('{TYPE}'), [{ kind: 'literal', value: '{TYPE}' }]);
});

test('request placeholders', () => {
  const i = input();
  assert.equal(render('{type}', i), 'A');
  assert.equal(render('{class}', i), 'IN');
  assert.equal(render('{name}', i), 'example.org.');
  assert.equal(render('{proto}', i), 'udp');
  assert.equal(render('{size}', i), '29');
  assert.equal(render('{remote}', i), '10.240.0.1');
  assert.equal(render('{port}', i), '40212');
  assert.equal(render('{local}', i), '127.0.0.1');
  assert.equal(render('{>id}', i), '29008');
  assert.equal(render('{>opcode}', i), '0');
  assert.equal(render('{>do}', i), 'false');
  assert.equal(render('{>bufsize}', i), '512');
});

test('{name} is lower-cased, {type} and {class} use CoreDNS mnemonics', () => {
  const r = query('ExAmple.ORG.', 'TYPE65280', { qclass: 'CH' });
  const i = input({ r });
  assert.equal(render('{type} {class} {name}', i), 'TYPE65280 CH example.org.');
  const any = query('example.org.', 'ANY', { qclass: 'ANY' });
  assert.equal(render('{type} {class}', input({ r: any })), 'ANY CLASS255');
});

test('IPv6 addresses are bracketed in {remote} and {local}', () => {
  const w = new FakeWriter({
    remote: { address: '::1', port: 50759, family: 6 },
    local: { address: 'fd00::53', port: 53, family: 6 },
  });
  assert.equal(render('{remote}:{port} {local}', input({ w })), '[::1]:50759 [fd00::53]');
});

test('{proto} and {>bufsize} over TCP, EDNS size and DO', () => {
  const r = query('example.org.');
  r.additionals.push(newOpt(4096, true));
  assert.equal(render('{proto} {>bufsize} {>do} {size}', input({ r })), 'udp 4096 true 40');
  assert.equal(render('{proto} {>bufsize} {>do}', input({ r, w: new FakeWriter({ transport: 'tcp' }) })), 'tcp 65535 true');
  const small = query('example.org.');
  small.additionals.push(newOpt(100));
  assert.equal(render('{>bufsize} {>do}', input({ r: small })), '512 false');
  assert.equal(DNSSEC_OK, 0x8000);
});

test('{>opcode} and {>id} come from the query', () => {
  const r = query('example.org.', 'SOA', { id: 7, flags: 4 << 11 });
  assert.equal(render('{>id} {>opcode}', input({ r })), '7 4');
});

test('reply placeholders', () => {
  assert.equal(render('{rcode} {>rflags} {rsize} {duration}'), 'NOERROR qr,aa,rd 59 0.000123s');
  assert.equal(render('{rcode}', input({ reply: { flags: 0x8000, rcode: 3 } })), 'NXDOMAIN');
  assert.equal(render('{rcode}', input({ reply: { flags: 0x8000, rcode: 16 } })), 'BADSIG');
  assert.equal(render('{rcode}', input({ reply: { flags: 0x8000, rcode: 12 } })), '12');
  assert.equal(render('{rcode}', input({ reply: { flags: 0x8000, rcode: 4000 } })), '4000');
  // no reply recorded
  assert.equal(render('{rcode} {>rflags} {rsize}', input({ reply: undefined, rsize: 0 })), '- - 0');
  // a reply without any flag set
  assert.equal(render('[{>rflags}]', input({ reply: { flags: 0, rcode: 0 } })), '[]');
});

test('{>rflags} order is qr,aa,tc,rd,ra,z,ad,cd', () => {
  assert.equal(formatFlags(0xffff), 'qr,aa,tc,rd,ra,z,ad,cd');
  assert.equal(formatFlags(0x8000 | 0x0100 | 0x0080 | 0x0020), 'qr,rd,ra,ad');
  assert.equal(formatFlags(0x0200 | 0x0040 | 0x0010), 'tc,z,cd');
  assert.equal(formatFlags(0x7800 | 0xf), ''); // opcode and rcode bits are not flags
});

test('{duration} is seconds in Go shortest float form', () => {
  assert.equal(formatDurationSeconds(0), '0s');
  assert.equal(formatDurationSeconds(123_000), '0.000123s');
  assert.equal(formatDurationSeconds(37_990_251), '0.037990251s');
  assert.equal(formatDurationSeconds(100), '0.0000001s');
  assert.equal(formatDurationSeconds(1_500_000_000), '1.5s');
  assert.equal(formatDurationSeconds(2_000_000_001), '2.000000001s');
  assert.equal(formatDurationSeconds(61_000_000_000), '61s');
});

test('{/label} reads metadata or prints -', () => {
  const ctx = Context.background();
  ctx.setMetadata('forward/upstream', () => '10.0.0.1:53');
  const i = input({ ctx });
  assert.equal(render('{/forward/upstream} {/nope} {/}', i), '10.0.0.1:53 - -');
});

test('unknown labels and stray braces stay as written', () => {
  assert.equal(render('{host} {when} {>foo} {type}'), '{host} {when} {>foo} A');
  assert.equal(render('{{remote}}'), '{10.240.0.1}');
  assert.equal(render('} {type} {'), '} A {');
  assert.equal(render('{{type}'), '{A');
  assert.equal(render('foo.%s.{name}'), 'foo.%s.example.org.');
});

test('the default format renders like CoreDNS', () => {
  const line = render(
    '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}',
  );
  assert.equal(line, '10.240.0.1:40212 - 29008 "A IN example.org. udp 29 false 512" NOERROR qr,aa,rd 59 0.000123s');
});

test('a query without a question', () => {
  const r: Msg = { id: 1, type: 'query', flags: 0, questions: [], answers: [], authorities: [], additionals: [] };
  assert.equal(render('[{type}] [{class}] [{name}] {size}', input({ r })), '[] [] [.] 12');
});
