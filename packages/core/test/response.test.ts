import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeMessage,
  newOpt,
  newRcodeReply,
  newReply,
  setRcode,
  type DnsRecord,
  type Msg,
  type RR,
  classify,
  factsOfMsg,
  ResponseClass,
  responseClassFromString,
  responseClassName,
  ResponseType,
  responseTypeName,
  rrsigValid,
  summarizeWire,
  typifyFacts,
} from '../src/index.js';

/** A query like miekg's SetQuestion (RD set), id 29008 unless given. */
function query(name: string, type = 'A', opts: { id?: number; qclass?: string; flags?: number } = {}): Msg {
  return {
    id: opts.id ?? 29008,
    type: 'query',
    flags: opts.flags ?? 0x0100,
    questions: [{ name, type, class: opts.qclass ?? 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

const NOW = 1_700_000_000;

const soa: RR = {
  name: 'example.org.',
  type: 'SOA',
  class: 'IN',
  ttl: 300,
  data: { mname: 'ns.example.org.', rname: 'hostmaster.example.org.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 },
};
const ns: RR = { name: 'example.org.', type: 'NS', class: 'IN', ttl: 300, data: 'ns.example.org.' };
const a: RR = { name: 'example.org.', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.1' };

function rrsig(inception: number, expiration: number): RR {
  // type covered, algorithm, labels, original TTL, expiration, inception, key tag, signer `.`, signature
  const d = new Uint8Array(18 + 1 + 4);
  const v = new DataView(d.buffer);
  v.setUint16(0, 1);
  d[2] = 13;
  d[3] = 2;
  v.setUint32(4, 300);
  v.setUint32(8, expiration >>> 0);
  v.setUint32(12, inception >>> 0);
  v.setUint16(16, 0x1234);
  d[18] = 0;
  return { name: 'example.org.', type: 'RRSIG', class: 'IN', ttl: 300, data: d };
}

function reply(rcode: number, sections: { an?: DnsRecord[]; ns?: DnsRecord[]; ar?: DnsRecord[] } = {}, q: Msg = query('example.org.')): Msg {
  const m = newReply(q);
  setRcode(m, rcode);
  m.answers.push(...(sections.an ?? []));
  m.authorities.push(...(sections.ns ?? []));
  m.additionals.push(...(sections.ar ?? []));
  return m;
}

function typeOf(m: Msg): string {
  return responseTypeName(typifyFacts(factsOfMsg(m), NOW));
}

test('Typify on messages', () => {
  assert.equal(typeOf(reply(0, { an: [a] })), 'NOERROR');
  assert.equal(typeOf(reply(3, { an: [a] })), 'OTHERERROR'); // NXDOMAIN with an answer
  assert.equal(typeOf(reply(0, { ns: [soa] })), 'NODATA');
  assert.equal(typeOf(reply(3, { ns: [soa] })), 'NXDOMAIN');
  assert.equal(typeOf(reply(3)), 'NXDOMAIN'); // without SOA it is still a name error
  assert.equal(typeOf(reply(2)), 'SERVERERROR');
  assert.equal(typeOf(reply(4)), 'SERVERERROR');
  assert.equal(typeOf(reply(5)), 'OTHERERROR');
  assert.equal(typeOf(reply(1)), 'OTHERERROR');
  assert.equal(typeOf(reply(0, { ns: [ns, ns] })), 'DELEGATION');
  assert.equal(typeOf(reply(0, { ns: [ns, soa] })), 'NODATA'); // SOA wins
  assert.equal(typeOf(reply(0)), 'NOERROR'); // empty NOERROR without SOA
  assert.equal(typeOf(reply(2, { ns: [ns] })), 'SERVERERROR');
  assert.equal(typeOf(reply(16)), 'OTHERERROR');
});

test('Typify: opcodes and transfers are checked first', () => {
  const update = query('example.org.', 'SOA', { flags: 5 << 11 });
  assert.equal(typeOf(reply(0, { an: [a] }, update)), 'UPDATE');
  const notify = query('example.org.', 'SOA', { flags: 4 << 11 });
  assert.equal(typeOf(reply(3, {}, notify)), 'META');
  assert.equal(typeOf(reply(0, { an: [a] }, query('example.org.', 'AXFR'))), 'META');
  assert.equal(typeOf(reply(5, {}, query('example.org.', 'IXFR'))), 'META');
});

test('Typify: expired signatures are an error only with the DO bit', () => {
  const expired = rrsig(NOW - 1000, NOW - 10);
  const valid = rrsig(NOW - 1000, NOW + 1000);
  const opt = newOpt(4096, true);
  assert.equal(typeOf(reply(0, { an: [a, expired], ar: [opt] })), 'OTHERERROR');
  assert.equal(typeOf(reply(0, { an: [a], ns: [expired], ar: [newOpt(4096, true)] })), 'OTHERERROR');
  assert.equal(typeOf(reply(0, { an: [a], ar: [expired, newOpt(4096, true)] })), 'OTHERERROR');
  assert.equal(typeOf(reply(0, { an: [a, valid], ar: [newOpt(4096, true)] })), 'NOERROR');
  assert.equal(typeOf(reply(0, { an: [a, expired] })), 'NOERROR'); // no OPT
  assert.equal(typeOf(reply(0, { an: [a, expired], ar: [newOpt(4096, false)] })), 'NOERROR'); // DO clear
  // dns-packet style RRSIG objects are read too
  const obj: RR = { name: 'example.org.', type: 'RRSIG', data: { inception: NOW + 100, expiration: NOW + 200 } };
  assert.equal(typeOf(reply(0, { an: [a, obj], ar: [newOpt(4096, true)] })), 'OTHERERROR');
});

test('rrsigValid uses serial arithmetic around now', () => {
  assert.equal(rrsigValid(NOW - 10, NOW + 10, NOW), true);
  assert.equal(rrsigValid(NOW, NOW, NOW), true);
  assert.equal(rrsigValid(NOW + 1, NOW + 10, NOW), false);
  assert.equal(rrsigValid(NOW - 10, NOW - 1, NOW), false);
  // miekg's arithmetic (int64, division truncating toward zero), including its result after 2106
  const year68 = 2 ** 31;
  assert.equal(rrsigValid(NOW - year68 + 1, NOW + 10, NOW), true);
  assert.equal(rrsigValid(50, 200, 2 ** 32 + 100), false);
  assert.equal(rrsigValid(2 ** 32 - 10, 2 ** 32 - 1, 2 ** 32 - 5), true);
});

test('no recorded reply is OTHERERROR', () => {
  assert.equal(typifyFacts(undefined, NOW), ResponseType.OtherError);
});

test('Classify', () => {
  assert.equal(classify(ResponseType.NoError), ResponseClass.Success);
  assert.equal(classify(ResponseType.Delegation), ResponseClass.Success);
  assert.equal(classify(ResponseType.NameError), ResponseClass.Denial);
  assert.equal(classify(ResponseType.NoData), ResponseClass.Denial);
  assert.equal(classify(ResponseType.ServerError), ResponseClass.Error);
  assert.equal(classify(ResponseType.OtherError), ResponseClass.Error);
  assert.equal(classify(ResponseType.Meta), ResponseClass.Error);
  assert.equal(classify(ResponseType.Update), ResponseClass.Error);
});

test('type and class names', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map((t) => responseTypeName(t as ResponseType)),
    ['NOERROR', 'NXDOMAIN', 'SERVERERROR', 'NODATA', 'DELEGATION', 'META', 'UPDATE', 'OTHERERROR'],
  );
  assert.deepEqual(
    [0, 1, 2, 3].map((c) => responseClassName(c as ResponseClass)),
    ['all', 'success', 'denial', 'error'],
  );
  assert.equal(responseClassFromString('all'), ResponseClass.All);
  assert.equal(responseClassFromString('success'), ResponseClass.Success);
  assert.equal(responseClassFromString('denial'), ResponseClass.Denial);
  assert.equal(responseClassFromString('error'), ResponseClass.Error);
  assert.equal(responseClassFromString('Error'), undefined);
  assert.equal(responseClassFromString('abracadabra'), undefined);
});

test('wire replies: header, extended rcode and Typify facts', () => {
  const cases: [Msg, string][] = [
    [reply(0, { an: [a] }), 'NOERROR'],
    [reply(0, { ns: [soa] }), 'NODATA'],
    [reply(3, { ns: [soa] }), 'NXDOMAIN'],
    [reply(0, { ns: [ns] }), 'DELEGATION'],
    [reply(2), 'SERVERERROR'],
    [reply(0, { an: [a] }, query('example.org.', 'AXFR')), 'META'],
    [reply(0, { an: [a, rrsig(NOW - 100, NOW - 1)], ar: [newOpt(1232, true)] }), 'OTHERERROR'],
    [reply(0, { an: [a, rrsig(NOW - 100, NOW - 1)], ar: [newOpt(1232, false)] }), 'NOERROR'],
  ];
  for (const [m, want] of cases) {
    const s = summarizeWire(encodeMessage(m, true));
    assert.ok(s);
    assert.equal(responseTypeName(typifyFacts(s.facts, NOW)), want);
    assert.equal(s.flags, (m.flags & 0x7fff) | 0x8000);
  }
  // BADVERS (16) needs the OPT's extended rcode bits
  const bad = newRcodeReply(query('example.org.'), 16);
  const s = summarizeWire(encodeMessage(bad));
  assert.ok(s);
  assert.equal(s.rcode, 16);
  assert.equal(s.facts?.rcode, 16);
});

test('wire replies: short or broken bytes', () => {
  assert.equal(summarizeWire(new Uint8Array(11)), undefined);
  const ok = encodeMessage(reply(3, { ns: [soa] }));
  const cut = ok.subarray(0, ok.length - 5);
  const s = summarizeWire(cut);
  assert.ok(s);
  assert.equal(s.rcode, 3);
  assert.equal(s.flags & 0x8000, 0x8000);
  assert.equal(s.facts, undefined);
});
