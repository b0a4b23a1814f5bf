import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  DecodeError,
  encodeMessage,
  messageLen,
  truncateMessage,
  unpackName,
  WireError,
  type Msg,
  type RR,
} from '../src/index.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function query(name: string, type = 'A', extra: Partial<Msg> = {}): Msg {
  return { id: 0x1234, type: 'query', flags: 0x0100, questions: [{ name, type, class: 'IN' }], answers: [], authorities: [], additionals: [], ...extra };
}

test('a plain query encodes to the expected bytes and decodes back', () => {
  const wire = encodeMessage(query('example.org.'));
  assert.equal(wire.toString('hex'), '123401000001000000000000' + '076578616d706c65036f726700' + '00010001');
  assert.deepEqual(decodeMessage(wire), query('example.org.'));
});

test('question case is preserved and the root name is "."', () => {
  assert.equal(decodeMessage(encodeMessage(query('ExAmPle.ORG.'))).questions[0]!.name, 'ExAmPle.ORG.');
  const root = encodeMessage(query('.', 'NS'));
  assert.equal(root.length, 12 + 1 + 4);
  assert.equal(decodeMessage(root).questions[0]!.name, '.');
});

test('special and non-printable label bytes are escaped like miekg/dns and round-trip exactly', () => {
  // label "a.b" (a literal dot), label with 0x00 and 0xff, label with a space and a quote
  const raw = hex('0000 0000 0001 0000 0000 0000' + '03612e62' + '03 00ff41' + '02 2022' + '00 0001 0001');
  const m = decodeMessage(raw);
  assert.equal(m.questions[0]!.name, 'a\\.b.\\000\\255A.\\ \\".');
  assert.deepEqual(encodeMessage(m), raw);
});

test('a message ending right after the header has empty sections', () => {
  const m = decodeMessage(hex('abcd 0100 0001 0000 0000 0000'));
  assert.equal(m.id, 0xabcd);
  assert.equal(m.questions.length, 0);
});

test('a question cut after its name gets type and class 0 (miekg accepts it)', () => {
  const m = decodeMessage(hex('0001 0000 0001 0000 0000 0000 03 666f6f 00'));
  assert.deepEqual(m.questions[0], { name: 'foo.', type: 'None', class: 'CLASS0' });
});

test('a question cut inside its type is an error without questions', () => {
  assert.throws(
    () => decodeMessage(hex('0001 0000 0001 0000 0000 0000 03 666f6f 00 00')),
    (e: unknown) => e instanceof DecodeError && e.partial.questions.length === 0,
  );
});

test('a bad answer is an error that keeps the decoded question', () => {
  const bad = hex('0001 0000 0001 0001 0000 0000 03666f6f00 0001 0001' + 'c00c 0001 0001 00000000 0004 7f00');
  assert.throws(
    () => decodeMessage(bad),
    (e: unknown) => e instanceof DecodeError && e.partial.questions[0]!.name === 'foo.',
  );
});

test('header counts larger than the records present are tolerated at a record boundary', () => {
  const m = decodeMessage(hex('0001 0000 0001 0005 0000 0002 03666f6f00 0001 0001'));
  assert.equal(m.answers.length, 0);
  assert.equal(m.additionals.length, 0);
});

test('compression pointer loops, reserved label types and over-long names are rejected', () => {
  const out = { off: 0 };
  assert.throws(() => unpackName(hex('c000'), 0, out), /too many compression pointers/);
  assert.throws(() => unpackName(hex('40'), 0, out), WireError);
  assert.throws(() => unpackName(hex('80'), 0, out), WireError);
  const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0])]);
  assert.throws(() => unpackName(long, 0, out), /exceeded 255/);
  // 253 characters (four 62-byte labels + one 1-byte label) are fine
  const ok = Buffer.concat([...Array.from({ length: 3 }, () => Buffer.concat([Buffer.from([62]), Buffer.alloc(62, 0x61)])), Buffer.from([63]), Buffer.alloc(63, 0x62), Buffer.from([0])]);
  assert.equal(unpackName(ok, 0, out).length, 3 * 63 + 64);
});

test('a pointer may point forward (miekg follows any pointer within the message)', () => {
  const buf = hex('c003 00 03 616263 00');
  const out = { off: 0 };
  assert.equal(unpackName(buf, 0, out), 'abc.');
  assert.equal(out.off, 2);
});

test('records of the modelled types round-trip', () => {
  const rrs: RR[] = [
    { name: 'a.example.', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.1' },
    { name: 'a.example.', type: 'AAAA', class: 'IN', ttl: 300, data: '2001:db8::1' },
    { name: 'a.example.', type: 'AAAA', class: 'IN', ttl: 300, data: '::ffff:192.0.2.1' },
    { name: 'a.example.', type: 'CNAME', class: 'IN', ttl: 1, data: 'b.example.' },
    { name: 'example.', type: 'MX', class: 'IN', ttl: 1, data: { preference: 10, exchange: 'mx.example.' } },
    { name: '_x._tcp.example.', type: 'SRV', class: 'IN', ttl: 30, data: { priority: 0, weight: 50, port: 8080, target: 'h.example.' } },
    { name: 'example.', type: 'SOA', class: 'IN', ttl: 5, data: { mname: 'ns.example.', rname: 'host\\.master.example.', serial: 4294967295, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 } },
    { name: 'example.', type: 'TXT', class: 'IN', ttl: 5, data: [Buffer.from('hello'), Buffer.from('')] },
    { name: 'example.', type: 'CAA', class: 'IN', ttl: 5, data: { flags: 128, tag: 'issue', value: 'ca.example', issuerCritical: true } },
    { name: 'example.', type: 'HINFO', class: 'IN', ttl: 5, data: { cpu: 'x86', os: 'linux' } },
    { name: 'example.', type: 'TYPE65280', class: 'CH', ttl: 5, data: Buffer.from([1, 2, 3]) },
  ];
  const m: Msg = { id: 1, type: 'response', flags: 0x8580 & 0x7fff, questions: [{ name: 'example.', type: 'ANY', class: 'IN' }], answers: rrs, authorities: [], additionals: [] };
  for (const compress of [false, true]) {
    const back = decodeMessage(encodeMessage(m, compress));
    assert.deepEqual(back.answers, rrs);
    assert.equal(back.flags, m.flags);
  }
});

test('records of other types are encoded by dns-packet from objects and decoded as raw RDATA', () => {
  const ds: RR = { name: 'example.', type: 'DS', class: 'IN', ttl: 5, data: { keyTag: 1234, algorithm: 8, digestType: 2, digest: Buffer.from('00112233', 'hex') } };
  const back = decodeMessage(encodeMessage({ ...query('example.', 'DS'), type: 'response', answers: [ds] }));
  assert.deepEqual(back.answers[0], { ...ds, data: hex('04d2 08 02 00112233') });
});

test('uncompressed encoding never uses pointers; compressed uses them like miekg/dns', () => {
  const m: Msg = {
    id: 2,
    type: 'response',
    flags: 0,
    questions: [{ name: 'www.example.org.', type: 'A', class: 'IN' }],
    answers: [
      { name: 'www.example.org.', type: 'CNAME', class: 'IN', ttl: 60, data: 'web.example.org.' },
      { name: 'web.example.org.', type: 'A', class: 'IN', ttl: 60, data: '192.0.2.7' },
    ],
    authorities: [],
    additionals: [],
  };
  const plain = encodeMessage(m, false);
  assert.equal(plain.length, messageLen(m, false));
  assert.equal(plain.length, 12 + 21 + (17 + 10 + 17) + (17 + 10 + 4));
  const comp = encodeMessage(m, true);
  // question at 12: www(12) example(16) org(24) root(28); answer 1 owner -> c00c;
  // CNAME target "web" + pointer to "example.org." at 16; answer 2 owner -> pointer to "web..." at 45
  assert.equal(
    comp.toString('hex'),
    '000280000001000200000000' +
      '03777777076578616d706c65036f726700' + '00010001' +
      'c00c' + '0005' + '0001' + '0000003c' + '0006' + '03776562c010' +
      'c02d' + '0001' + '0001' + '0000003c' + '0004' + 'c0000207',
  );
  assert.equal(comp.length, messageLen(m, true));
});

test('SRV targets are not compressed but later names can point into them', () => {
  const m: Msg = {
    id: 3,
    type: 'response',
    flags: 0,
    questions: [{ name: '_s._tcp.example.', type: 'SRV', class: 'IN' }],
    answers: [{ name: '_s._tcp.example.', type: 'SRV', class: 'IN', ttl: 1, data: { priority: 0, weight: 0, port: 1, target: 'h.example.' } }],
    authorities: [],
    additionals: [{ name: 'h.example.', type: 'A', class: 'IN', ttl: 1, data: '192.0.2.1' }],
  };
  const comp = encodeMessage(m, true);
  const targetAt = comp.indexOf(Buffer.from('01680765', 'hex'));
  assert.ok(targetAt > 0, 'target written in full');
  // the additional's owner is a pointer to the SRV target
  assert.equal(comp.readUInt16BE(comp.length - 16), 0xc000 | targetAt);
  assert.deepEqual(decodeMessage(comp).additionals, m.additionals);
});

test('truncate keeps what fits compressed, sets TC and keeps the OPT last', () => {
  const answers: RR[] = [];
  for (let i = 0; i < 60; i++) answers.push({ name: 'www.example.org.', type: 'A', class: 'IN', ttl: 300, data: `10.0.0.${i}` });
  const m: Msg = {
    id: 1,
    type: 'response',
    flags: 0,
    questions: [{ name: 'www.example.org.', type: 'A', class: 'IN' }],
    answers,
    authorities: [],
    additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 512, extendedRcode: 0, ednsVersion: 0, flags: 0, options: [] }],
  };
  assert.equal(truncateMessage(m, 512), true);
  // 12 + 21 (question) + n*16 (pointer owner + 10 + 4) <= 512 - 11 (OPT)  => n = 29
  assert.equal(m.answers.length, 29);
  assert.equal(m.flags & 0x0200, 0x0200);
  assert.equal(m.additionals.length, 1);
  const wire = encodeMessage(m, true);
  assert.ok(wire.length <= 512, `fits: ${wire.length}`);
  assert.equal(decodeMessage(wire).answers.length, 29);
});

test('a message that fits is not truncated and stays uncompressed', () => {
  const m = query('example.org.');
  assert.equal(truncateMessage(m, 100), false);
  assert.equal(m.flags & 0x0200, 0);
});

test('EDNS options are validated as miekg/dns does', () => {
  const base = '0001 0000 0001 0000 0000 0001 00 0002 0001' + '00 0029 1000 00000000';
  const opt = (code: string, d: string): Buffer => {
    const data = d.replace(/\s+/g, '');
    return hex(base + (4 + data.length / 2).toString(16).padStart(4, '0') + code + (data.length / 2).toString(16).padStart(4, '0') + data);
  };
  assert.equal(decodeMessage(opt('000a', '0102030405060708')).additionals.length, 1); // cookie
  assert.throws(() => decodeMessage(opt('0008', '0003 18 00 0a0000')), /bad address family/); // ECS family 3
  assert.throws(() => decodeMessage(opt('0008', '0001 21 00 0a000000')), /bad netmask/); // ECS /33
  assert.throws(() => decodeMessage(opt('000b', '01')), /length mismatch/); // keepalive
  assert.throws(() => decodeMessage(opt('0009', '0102')), WireError); // expire with 2 bytes
  assert.equal(decodeMessage(opt('0009', '')).additionals.length, 1); // empty expire
});

test('names must be fully qualified when encoding', () => {
  assert.throws(() => encodeMessage(query('example.org')), /fully qualified/);
  assert.throws(() => encodeMessage(query('a..b.')), WireError);
  assert.throws(() => encodeMessage(query(`${'a'.repeat(64)}.`)), WireError);
});
