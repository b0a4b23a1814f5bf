import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EDNS, Recorder, WrappedWriter, decodeMessage, type Context, type Handler, type Msg, type ResponseWriter } from '@tsdns/core';
import { TestWriter, makeQuery, serveHandler, type QueryOptions, type TestWriterOptions } from '@tsdns/testing';
import { Whoami } from '../src/index.js';

/** A wrapper that handles raw writes on its own terms: the reply then has to go as a message. */
class Opaque extends WrappedWriter {
  override writeMsg(m: Msg): void {
    this.inner.writeMsg(m);
  }
  override write(wire: Uint8Array, len?: number): void {
    this.inner.write(wire, len);
  }
}

/** whoami behind a Recorder, with (`opaque`) or without a writer that rules out raw writes. */
function recorded(opaque: boolean): { h: Handler; rec: () => Recorder } {
  const whoami = new Whoami();
  let rec: Recorder | undefined;
  return {
    h: {
      name: 'recorded',
      ServeDNS(ctx: Context, w: ResponseWriter, r: Msg): number | Promise<number> {
        rec = new Recorder(w);
        return whoami.ServeDNS(ctx, opaque ? new Opaque(rec) : rec, r);
      },
    },
    rec: () => rec!,
  };
}

interface Outcome {
  raw: Buffer;
  kind: string;
  len: number;
  rcode: number;
}

async function serve(query: Msg, writer: TestWriterOptions, opaque: boolean): Promise<Outcome> {
  const { h, rec } = recorded(opaque);
  const w = new TestWriter(writer);
  // the scrub may normalise the query's OPT in place: each run gets its own copy
  const res = await serveHandler(h, structuredClone(query), { writer: w });
  assert.equal(res.error, undefined);
  assert.equal(w.written.length, 1);
  return { raw: w.written[0]!.raw, kind: w.written[0]!.via, len: rec().len, rcode: rec().rcode };
}

/** Serves the query both ways; the client must get the same bytes and recorders must see the same reply. */
async function same(query: Msg, writer: TestWriterOptions = {}): Promise<Outcome> {
  const bytes = await serve(query, writer, false);
  const msg = await serve(query, writer, true);
  assert.equal(msg.kind, 'send');
  assert.deepEqual(bytes.raw, msg.raw, `${query.questions[0]?.name} ${JSON.stringify(writer)}`);
  assert.equal(bytes.len, msg.len);
  assert.equal(bytes.rcode, msg.rcode);
  return bytes;
}

const writers: TestWriterOptions[] = [
  {},
  { remote: '192.0.2.254:65535' },
  { remote: '[2001:db8::53]:5353' },
  { remote: '[::ffff:198.51.100.7]:1234' },
  { proto: 'tcp' },
  { proto: 'tcp', remote: '[fe80::1]:53', transport: 'tls' },
];

const queries: [string, string, QueryOptions][] = [
  ['example.org.', 'A', {}],
  ['Example.ORG.', 'AAAA', { rd: false }],
  ['.', 'NS', {}],
  ['x.', 'TYPE65280', { cd: true }],
  ['a.b.c.d.e.f.example.', 'SRV', { class: 'CH' }],
  ['example.org.', 'A', { class: 'CLASS42' }],
  ['example.org.', 'A', { opcode: 4 }],
  ['example.org.', 'A', { edns: true }],
  ['example.org.', 'A', { do: true, bufsize: 4096 }],
  ['example.org.', 'A', { bufsize: 100 }],
  ['example.org.', 'A', { edns: { flags: 0xffff, extendedRcode: 3 } }],
  [
    'example.org.',
    'A',
    {
      edns: {
        options: [
          { code: EDNS.NSID, data: new Uint8Array(0) },
          { code: EDNS.COOKIE, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) },
          { code: 65001, data: Uint8Array.from([9]) },
          { code: EDNS.EXPIRE, data: Uint8Array.from([0, 0, 0, 1, 2]) },
          { code: EDNS.TCP_KEEPALIVE, data: Uint8Array.from([0, 0]) },
        ],
      },
    },
  ],
  [`${'a'.repeat(63)}.example.`, 'A', {}],
];

test('whoami writes the same bytes as its message would be sent as', async () => {
  for (const w of writers) {
    for (const [name, type, opts] of queries) {
      const out = await same(makeQuery(name, type, { id: 0xbeef, ...opts }), w);
      // plain names are answered as bytes
      assert.equal(out.kind, 'write', `${name} ${JSON.stringify(w)}`);
      assert.equal(out.rcode, 0);
    }
  }
});

test('whoami replies it cannot write as bytes go as messages, with the same result', async () => {
  /** A name of n characters. */
  const long = (n: number): string => {
    const labels: string[] = [];
    let s = '';
    while (s.length + 64 < n) {
      labels.push('b'.repeat(62));
      s = labels.join('.') + '.';
    }
    labels.push('c'.repeat(n - s.length - 1));
    return labels.join('.') + '.';
  };
  // the longest name whose SRV owner is still a name (255 octets) goes as bytes
  assert.equal((await same(makeQuery(long(249), 'A', { id: 6, edns: true }), { proto: 'tcp' })).kind, 'write');
  const cases: [string, QueryOptions, TestWriterOptions][] = [
    ['a\\.b.example.', {}, {}],
    ['a\\000b.example.', { edns: true }, {}],
    ['bücher.example.', {}, {}],
    // over 512 octets without EDNS: truncated
    [long(200), {}, {}],
    // over the client's EDNS buffer size
    [long(200), { bufsize: 600 }, { remote: '[2001:db8::1]:53' }],
  ];
  // DNS over HTTPS: messages
  cases.push(['example.org.', { edns: true }, { proto: 'tcp', transport: 'https' }]);
  for (const [name, opts, w] of cases) {
    const out = await same(makeQuery(name, 'A', { id: 7, ...opts }), w);
    assert.equal(out.kind, 'send', name);
  }
  // too long for 512 octets uncompressed: sent compressed, nothing dropped
  const name = long(200);
  const t = await same(makeQuery(name, 'A', { id: 8 }));
  assert.ok(t.raw.length <= 512);
  const m = decodeMessage(t.raw);
  assert.equal(m.flags & 0x200, 0);
  assert.deepEqual(
    m.additionals.map((r) => r.name),
    [name, `_udp.${name}`],
  );
});

test('whoami answers A for IPv4 clients and AAAA for IPv6 ones, SRV with port and transport', async () => {
  const v4 = decodeMessage((await same(makeQuery('Who.Example.', 'A', { id: 1 }), { remote: '10.0.0.9:4242' })).raw);
  assert.deepEqual(
    v4.additionals.map((r) => [r.name, r.type, 'data' in r ? r.data : undefined]),
    [
      ['Who.Example.', 'A', '10.0.0.9'],
      ['_udp.Who.Example.', 'SRV', { priority: 0, weight: 0, port: 4242, target: '.' }],
    ],
  );
  assert.equal(v4.flags & 0x0400, 0x0400); // AA
  const v6 = decodeMessage((await same(makeQuery('.', 'A', { id: 2 }), { remote: '[2001:db8::1]:53', proto: 'tcp' })).raw);
  assert.deepEqual(
    v6.additionals.map((r) => [r.name, r.type]),
    [
      ['.', 'AAAA'],
      ['_tcp.', 'SRV'],
    ],
  );
});
