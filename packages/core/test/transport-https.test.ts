import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type tls from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import {
  decodeMessage,
  encodeMessage,
  newReply,
  registry,
  RCODE,
  setRcode,
  type Instance,
  type Msg,
  type PluginDefinition,
  type RR,
  type TlsClientAuth,
} from '../src/index.js';
import { parseTarget, queryValues, decodeBase64Url, unpackRequest } from '../src/transport/https.js';
import { block, configPlugin, makeCerts, portOf, query, startInstance, tcpConnect, whoami, whoamiOf, type Certs } from './transport-helpers.js';

let certs: Certs;
let who: PluginDefinition;

before(async () => {
  certs = makeCerts();
  who = await whoami();
});
after(() => certs.cleanup());

const DOH = [{ transport: 'https' as const, zone: '.', port: '0' }];
const SERVER = 'https://127.0.0.1:0';

function bindTo(host: string, more?: (c: import('../src/index.js').Controller) => void): PluginDefinition {
  return configPlugin('bind', (c) => {
    c.config.listenHosts = [host];
    more?.(c);
  });
}

const tlsPlugin = (): PluginDefinition =>
  configPlugin('tls', (c) => {
    c.config.tls = { cert: certs.serverCert.pem, key: certs.serverKey.pem, minVersion: 'TLSv1.2' };
  });

async function dohInstance(opts: { tls?: boolean; lines?: string[][]; extra?: PluginDefinition[]; bind?: PluginDefinition } = {}): Promise<{ inst: Instance; port: number }> {
  const lines = [['bind'], ...(opts.tls === false ? [] : [['tls']]), ...(opts.lines ?? [['whoami']])];
  const plugins = [opts.bind ?? bindTo('127.0.0.1'), ...(opts.extra ?? []), ...(opts.tls === false ? [] : [tlsPlugin()]), who];
  const inst = await startInstance([block(DOH, lines)], plugins);
  return { inst, port: portOf(inst, SERVER) };
}

interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The client's local port (what whoami reports). */
  localPort: number;
  /** `h2` or `http/1.1`. */
  alpn: string;
}

/** An HTTP/2 request over TLS. */
function h2Request(port: number, path: string, method = 'GET', body?: Buffer, host = '127.0.0.1'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`https://${host}:${port}`, { ca: certs.ca.pem });
    client.once('error', reject);
    const headers: http2.OutgoingHttpHeaders = { ':path': path, ':method': method, accept: 'application/dns-message' };
    if (body) headers['content-type'] = 'application/dns-message';
    const req = client.request(headers);
    const chunks: Buffer[] = [];
    let status = 0;
    let hdrs: IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      hdrs = h as IncomingHttpHeaders;
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const localPort = client.socket.localPort ?? 0;
      const alpn = client.alpnProtocol ?? '';
      client.close();
      resolve({ status, headers: hdrs, body: Buffer.concat(chunks), localPort, alpn });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An HTTP/1.1 request over TLS (ALPN http/1.1). */
function h1Request(port: number, path: string, method = 'GET', body?: Buffer): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = {
      host: '127.0.0.1',
      port,
      path,
      method,
      ca: certs.ca.pem,
      ALPNProtocols: ['http/1.1'],
      agent: false,
      headers: body ? { 'content-type': 'application/dns-message' } : {},
    };
    const req = https.request(
      options,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            localPort: res.socket.localPort ?? 0,
            alpn: (res.socket as tls.TLSSocket).alpnProtocol || '',
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function b64(m: Msg | Buffer): string {
  return (Buffer.isBuffer(m) ? m : encodeMessage(m)).toString('base64url');
}

async function httpsCount(server: string, status: number): Promise<number> {
  const text = await registry.getSingleMetricAsString('coredns_dns_https_responses_total');
  const esc = server.replace(/[/.]/g, (c) => `\\${c}`);
  const m = new RegExp(`coredns_dns_https_responses_total\\{server="${esc}",status="${status}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

test('DoH GET over HTTP/2: whoami reply, headers as CoreDNS, metric counted', async () => {
  const { inst, port } = await dohInstance();
  try {
    const before = await httpsCount(SERVER, 200);
    const r = await h2Request(port, `/dns-query?dns=${b64(query('example.org.', 'A', 0))}`);
    assert.equal(r.alpn, 'h2');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/dns-message');
    assert.equal(r.headers['cache-control'], 'max-age=0');
    assert.equal(r.headers['content-length'], String(r.body.length));
    const m = decodeMessage(r.body);
    assert.equal(m.id, 0);
    assert.equal(m.questions[0]!.name, 'example.org.');
    const w = whoamiOf(m);
    assert.equal(w.address, '127.0.0.1');
    assert.equal(w.port, r.localPort);
    assert.equal(w.srvName, '_tcp.example.org.');
    assert.equal(await httpsCount(SERVER, 200), before + 1);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH POST over HTTP/1.1 and HTTP/2 on the same TLS port', async () => {
  const { inst, port } = await dohInstance();
  try {
    const body = encodeMessage(query('Example.ORG.', 'AAAA', 0x1234));
    const r1 = await h1Request(port, '/dns-query', 'POST', body);
    assert.equal(r1.alpn, 'http/1.1');
    assert.equal(r1.status, 200);
    const m1 = decodeMessage(r1.body);
    assert.equal(m1.id, 0x1234);
    assert.equal(m1.questions[0]!.name, 'Example.ORG.');
    assert.equal(whoamiOf(m1).port, r1.localPort);
    const r2 = await h2Request(port, '/dns-query', 'POST', body);
    assert.equal(r2.alpn, 'h2');
    assert.equal(r2.status, 200);
    assert.equal(decodeMessage(r2.body).id, 0x1234);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: other paths 404 with an empty text body', async () => {
  const { inst, port } = await dohInstance();
  try {
    const before = await httpsCount(SERVER, 404);
    for (const path of ['/', '/dns-query/', '/resolve?dns=AAAA']) {
      const r = await h2Request(port, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.toString(), '\n');
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    // the path is compared percent-decoded, as Go's URL.Path
    const enc = await h1Request(port, `/dns%2Dquery?dns=${b64(query('example.org.'))}`);
    assert.equal(enc.status, 200);
    assert.equal(await httpsCount(SERVER, 404), before + 3);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: malformed requests are 400 "invalid request" (CoreDNS answers 400, not 405, to other methods)', async () => {
  const { inst, port } = await dohInstance();
  try {
    const before = await httpsCount(SERVER, 400);
    const response = encodeMessage({ ...query('example.org.'), type: 'response' });
    const twoQuestions = encodeMessage({ ...query('example.org.'), questions: [query('a.').questions[0]!, query('b.').questions[0]!] });
    const cases: [string, Promise<HttpResult>][] = [
      ['garbage base64', h2Request(port, '/dns-query?dns=!!!!')],
      ['padding is not allowed', h2Request(port, `/dns-query?dns=${b64(query('example.org.'))}==`)],
      ['no dns parameter', h2Request(port, '/dns-query?foo=bar')],
      ['two dns parameters', h2Request(port, `/dns-query?dns=${b64(query('a.'))}&dns=${b64(query('b.'))}`)],
      ['short message', h2Request(port, `/dns-query?dns=${b64(Buffer.from('0102', 'hex'))}`)],
      ['a response', h2Request(port, `/dns-query?dns=${b64(response)}`)],
      ['two questions', h1Request(port, '/dns-query', 'POST', twoQuestions)],
      ['truncated body', h1Request(port, '/dns-query', 'POST', encodeMessage(query('example.org.')).subarray(0, 20))],
      ['PUT', h2Request(port, '/dns-query', 'PUT', encodeMessage(query('example.org.')))],
      ['too large a body', h1Request(port, '/dns-query', 'POST', Buffer.alloc(65537))],
    ];
    for (const [what, p] of cases) {
      const r = await p;
      assert.equal(r.status, 400, what);
      assert.equal(r.body.toString(), 'invalid request\n', what);
    }
    assert.equal(await httpsCount(SERVER, 400), before + cases.length);
  } finally {
    await inst.stopListeners(0);
  }
});

/** A plugin answering with fixed records/rcode, or writing nothing. */
function answering(make: (r: Msg) => Msg | undefined): PluginDefinition {
  return {
    name: 'answer',
    setup(c) {
      c.next();
      c.addPlugin(() => ({
        name: 'answer',
        ServeDNS(_ctx, w, r) {
          const m = make(r);
          if (m) w.writeMsg(m);
          return 0;
        },
      }));
    },
  };
}

test('DoH: a chain that writes nothing gets 500 "No response"', async () => {
  const { inst, port } = await dohInstance({ lines: [['answer']], extra: [answering(() => undefined)] });
  try {
    const before = await httpsCount(SERVER, 500);
    const r = await h2Request(port, `/dns-query?dns=${b64(query('example.org.'))}`);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'No response\n');
    assert.equal(await httpsCount(SERVER, 500), before + 1);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH Cache-Control: the lowest TTL, 5 s for errors and empty answers, at most 3600', async () => {
  const rr = (name: string, type: string, ttl: number, data: RR['data']): RR => ({ name, type, class: 'IN', ttl, data });
  const answers: Record<string, (r: Msg) => Msg> = {
    'ttl.example.': (r) => {
      const m = newReply(r);
      m.answers.push(rr('ttl.example.', 'A', 300, '192.0.2.1'), rr('ttl.example.', 'A', 60, '192.0.2.2'));
      m.additionals.push(rr('ns.example.', 'A', 120, '192.0.2.3'));
      return m;
    },
    'long.example.': (r) => {
      const m = newReply(r);
      m.answers.push(rr('long.example.', 'A', 86400, '192.0.2.1'));
      return m;
    },
    'nx.example.': (r) => {
      const m = newReply(r);
      setRcode(m, RCODE.NXDOMAIN);
      m.authorities.push(rr('example.', 'SOA', 900, { mname: 'ns.example.', rname: 'h.example.', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 30 }));
      return m;
    },
    'empty.example.': (r) => newReply(r),
    'fail.example.': (r) => {
      const m = newReply(r);
      setRcode(m, RCODE.SERVFAIL);
      m.answers.push(rr('fail.example.', 'A', 100, '192.0.2.1'));
      return m;
    },
  };
  const plugin = answering((r) => answers[r.questions[0]!.name]!(r));
  const { inst, port } = await dohInstance({ lines: [['answer']], extra: [plugin] });
  try {
    const expect: [string, string][] = [
      ['ttl.example.', 'max-age=60'],
      ['long.example.', 'max-age=3600'],
      ['nx.example.', 'max-age=900'],
      ['empty.example.', 'max-age=5'],
      ['fail.example.', 'max-age=5'],
    ];
    for (const [name, cc] of expect) {
      const r = await h2Request(port, `/dns-query?dns=${b64(query(name))}`);
      assert.equal(r.status, 200, name);
      assert.equal(r.headers['cache-control'], cc, name);
    }
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: EDNS is echoed, and a query without a matching zone is REFUSED with status 200', async () => {
  const zoned = [{ transport: 'https' as const, zone: 'example.org.', port: '0' }];
  const inst = await startInstance([block(zoned, [['bind'], ['tls'], ['whoami']])], [bindTo('127.0.0.1'), tlsPlugin(), who]);
  try {
    const port = portOf(inst, SERVER);
    const opt = { name: '.', type: 'OPT' as const, udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0x8000, options: [] };
    const r = await h2Request(port, `/dns-query?dns=${b64(query('www.example.org.', 'A', 0, [opt]))}`);
    const m = decodeMessage(r.body);
    const echoed = m.additionals.find((x) => x.type === 'OPT') as typeof opt | undefined;
    assert.equal(echoed?.udpPayloadSize, 1232);
    assert.equal(echoed?.flags, 0x8000);
    const refused = await h2Request(port, `/dns-query?dns=${b64(query('example.net.'))}`);
    assert.equal(refused.status, 200);
    assert.equal(decodeMessage(refused.body).flags & 0xf, RCODE.REFUSED);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH without a tls directive is plain HTTP/1.1 (fetch GET and POST)', async () => {
  const { inst, port } = await dohInstance({ tls: false });
  try {
    const get = await fetch(`http://127.0.0.1:${port}/dns-query?dns=${b64(query('example.org.', 'A', 0))}`, { headers: { accept: 'application/dns-message' } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), 'application/dns-message');
    assert.equal(whoamiOf(decodeMessage(Buffer.from(await get.arrayBuffer()))).address, '127.0.0.1');
    const post = await fetch(`http://127.0.0.1:${port}/dns-query`, { method: 'POST', body: encodeMessage(query('example.org.', 'TXT', 77)) });
    assert.equal(post.status, 200);
    assert.equal(decodeMessage(Buffer.from(await post.arrayBuffer())).id, 77);
    const missing = await fetch(`http://127.0.0.1:${port}/other`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), '\n');
    // no TLS on this port
    await assert.rejects(h2Request(port, '/dns-query'));
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: a block-level request validator replaces the /dns-query check', async () => {
  const validator = configPlugin('validate', (c) => {
    c.config.httpRequestValidate = (req) => (req.url ?? '').startsWith('/custom');
  });
  const { inst, port } = await dohInstance({ lines: [['validate'], ['whoami']], extra: [validator] });
  try {
    assert.equal((await h2Request(port, `/custom?dns=${b64(query('example.org.'))}`)).status, 200);
    assert.equal((await h2Request(port, `/dns-query?dns=${b64(query('example.org.'))}`)).status, 404);
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: connections over max_connections wait until one closes', async () => {
  const { inst, port } = await dohInstance({ tls: false, bind: bindTo('127.0.0.1', (c) => (c.config.maxHttpsConnections = 1)) });
  try {
    const first = await tcpConnect(port);
    const second = await tcpConnect(port);
    const request = `GET /dns-query?dns=${b64(query('example.org.', 'A', 0))} HTTP/1.1\r\nHost: x\r\n\r\n`;
    let answered = false;
    const reply = new Promise<string>((resolve) => {
      let text = '';
      second.on('data', (d: Buffer) => {
        answered = true;
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    second.write(request);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(answered, false, 'second connection must wait');
    first.destroy();
    const head = await reply;
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    second.destroy();
  } finally {
    await inst.stopListeners(0);
  }
});

test('DoH: the listener stops gracefully (in-flight request answered, then connection refused)', async () => {
  let started!: () => void;
  const inFlight = new Promise<void>((res) => (started = res));
  const slowAsync: PluginDefinition = {
    name: 'answer',
    setup(c) {
      c.next();
      c.addPlugin(() => ({
        name: 'answer',
        async ServeDNS(_ctx, w, r) {
          started();
          await new Promise((res) => setTimeout(res, 200));
          w.writeMsg(newReply(r));
          return 0;
        },
      }));
    },
  };
  const { inst, port } = await dohInstance({ lines: [['answer']], extra: [slowAsync] });
  const pending = h2Request(port, `/dns-query?dns=${b64(query('example.org.', 'A', 0))}`);
  await inFlight; // the query reached the plugin: it is in flight
  await inst.stopListeners(2000);
  const r = await pending;
  assert.equal(r.status, 200);
  await assert.rejects(h2Request(port, '/dns-query'), /ECONNREFUSED/);
});

test('DoH client_auth: require and verify_if_given close refused connections, require_and_verify fails the handshake', async () => {
  const outcome = async (auth: TlsClientAuth, client: 'none' | 'good' | 'rogue'): Promise<string> => {
    const tlsAuth = configPlugin('tls', (c) => {
      c.config.tls = { cert: certs.serverCert.pem, key: certs.serverKey.pem, ca: certs.ca.pem };
      c.config.tlsClientAuth = auth;
    });
    const inst = await startInstance([block(DOH, [['bind'], ['tls'], ['whoami']])], [bindTo('127.0.0.1'), tlsAuth, who]);
    try {
      const port = portOf(inst, SERVER);
      const opts: http2.SecureClientSessionOptions = { ca: certs.ca.pem };
      if (client === 'good') Object.assign(opts, { cert: certs.clientCert.pem, key: certs.clientKey.pem });
      if (client === 'rogue') Object.assign(opts, { cert: certs.rogueCert.pem, key: certs.rogueKey.pem });
      return await new Promise<string>((resolve) => {
        const c = http2.connect(`https://127.0.0.1:${port}`, opts);
        c.on('error', () => resolve('refused'));
        c.on('close', () => resolve('refused'));
        const req = c.request({ ':path': `/dns-query?dns=${b64(query('example.org.'))}` });
        req.on('response', (h) => {
          resolve(String(h[':status']));
          c.close();
        });
        req.on('error', () => resolve('refused'));
        req.end();
      });
    } finally {
      await inst.stopListeners(0);
    }
  };
  const table: [TlsClientAuth, 'none' | 'good' | 'rogue', string][] = [
    ['nocert', 'rogue', '200'],
    ['request', 'rogue', '200'],
    ['require', 'none', 'refused'],
    ['require', 'rogue', '200'],
    ['verify_if_given', 'none', '200'],
    ['verify_if_given', 'rogue', 'refused'],
    ['verify_if_given', 'good', '200'],
    ['require_and_verify', 'none', 'refused'],
    ['require_and_verify', 'rogue', 'refused'],
    ['require_and_verify', 'good', '200'],
  ];
  for (const [auth, client, want] of table) assert.equal(await outcome(auth, client), want, `${auth} with ${client} client certificate`);
});

test('request target, query and base64 parsing follow Go', () => {
  assert.deepEqual(parseTarget('/dns-query?dns=AAAA&x=1'), { path: '/dns-query', query: 'dns=AAAA&x=1' });
  assert.deepEqual(parseTarget('http://example.org/dns-query?dns=A'), { path: '/dns-query', query: 'dns=A' });
  assert.deepEqual(parseTarget('/dns%2dquery'), { path: '/dns-query', query: '' });
  assert.equal(parseTarget('/bad%zz'), undefined);
  assert.deepEqual(queryValues('dns=a&dns=b&x=1', 'dns'), ['a', 'b']);
  assert.deepEqual(queryValues('dns=a;b&dns=c', 'dns'), ['c']);
  assert.deepEqual(queryValues('dns=%41%2B+x&dns=%zz', 'dns'), ['A+ x']);
  assert.deepEqual(queryValues('dns', 'dns'), ['']);
  assert.deepEqual([...decodeBase64Url('AAEC')], [0, 1, 2]);
  assert.deepEqual([...decodeBase64Url('AAE\r\nC')], [0, 1, 2]);
  assert.deepEqual([...decodeBase64Url('-_8')], [0xfb, 0xff]);
  assert.throws(() => decodeBase64Url('AAE='), /illegal base64 data at input byte 3/);
  assert.throws(() => decodeBase64Url('AAECA'), /illegal base64 data at input byte 4/);
  assert.throws(() => unpackRequest(Buffer.alloc(11)), /buffer size too small/);
  const notify = encodeMessage({ ...query('example.org.', 'SOA'), flags: 4 << 11 });
  assert.equal(unpackRequest(notify).questions[0]!.type, 'SOA');
  assert.throws(() => unpackRequest(encodeMessage({ ...query('example.org.'), flags: 5 << 11 })), /dns request rejected/);
});
