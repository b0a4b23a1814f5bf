import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { decodeMessage, encodeMessage, RCODE, type Msg } from '@tsdns/core';
import { makeQuery, serveHandler } from '@tsdns/testing';
import { aReply, handles, metric0, serve, setupForwards, socketsBackTo, waitFor } from './helpers.js';

let dir = '';
let ca = '';
let serverKey: Buffer;
let serverCert: Buffer;
let clientKey = '';
let clientCert = '';
let baseline = 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

before(() => {
  baseline = handles().sockets;
  dir = mkdtempSync(join(tmpdir(), 'fwd-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tsdns test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=dns.test');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:dns.test\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  openssl('req', ...ec, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=client');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  ca = join(dir, 'ca.pem');
  serverKey = readFileSync(join(dir, 'server.key'));
  serverCert = readFileSync(join(dir, 'server.pem'));
  clientKey = join(dir, 'client.key');
  clientCert = join(dir, 'client.pem');
});

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(await socketsBackTo(baseline), baseline, 'no sockets left open');
});

interface DotServer {
  port: number;
  connections: number;
  servernames: (string | false)[];
  queries: Msg[];
  close(): Promise<void>;
}

/** A DNS-over-TLS server (Node tls) answering A queries. */
async function dotServer(opts: tls.TlsOptions = {}): Promise<DotServer> {
  const socks = new Set<tls.TLSSocket>();
  const st: DotServer = {
    port: 0,
    connections: 0,
    servernames: [],
    queries: [],
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
  const srv = tls.createServer({ key: serverKey, cert: serverCert, ...opts }, (sock) => {
    st.connections++;
    st.servernames.push(sock.servername || false);
    socks.add(sock);
    sock.on('close', () => socks.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        st.queries.push(q);
        const b = encodeMessage(aReply(q, '192.0.2.53'));
        const f = Buffer.alloc(b.length + 2);
        f.writeUInt16BE(b.length, 0);
        b.copy(f, 2);
        sock.write(f);
      }
    });
  });
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  st.port = (srv.address() as { port: number }).port;
  return st;
}

test('DoT: queries go over TLS (system CAs reject a private CA; the tls CA option accepts it), connections are reused', async () => {
  const srv = await dotServer();
  try {
    const addr = `127.0.0.1:${srv.port}`;
    const hits0 = await metric0('coredns_proxy_conn_cache_hits_total', { proxy_name: 'forward', to: addr, proto: 'tcp-tls' });
    const miss0 = await metric0('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to: addr, proto: 'tcp-tls' });
    const s = await serve(`.:0 {\n  forward . tls://${addr} {\n    tls ${ca}\n  }\n}`);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await s.query(`q${i}.example.org`);
        assert.equal(r.rcode, RCODE.NOERROR);
        assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.53');
      }
      assert.equal(srv.connections, 1, 'one TLS connection for all queries');
      assert.deepEqual(srv.servernames, [false], 'no SNI for an IP address');
      assert.equal(await metric0('coredns_proxy_conn_cache_misses_total', { proxy_name: 'forward', to: addr, proto: 'tcp-tls' }), miss0 + 1);
      assert.equal(await metric0('coredns_proxy_conn_cache_hits_total', { proxy_name: 'forward', to: addr, proto: 'tcp-tls' }), hits0 + 2);
    } finally {
      await s.close();
    }
    const { forwards } = await setupForwards(`.:53 {\n  forward . tls://${addr} {\n    max_fails 0\n  }\n}`);
    const f = forwards[0]!;
    f.onStartup();
    try {
      const res = await serveHandler(f, makeQuery('example.org'));
      assert.equal(res.rcode, RCODE.SERVFAIL);
      assert.equal((res.error as Error).message, 'tls: failed to verify certificate: x509: certificate signed by unknown authority');
    } finally {
      f.onShutdown();
    }
  } finally {
    await srv.close();
  }
});

test('DoT: server names from %name and tls_servername; a name the certificate does not have fails', async () => {
  const srv = await dotServer();
  try {
    let { forwards } = await setupForwards(`.:53 {\n  forward . tls://127.0.0.1%dns.test:${srv.port} {\n    tls ${ca}\n  }\n}`);
    let f = forwards[0]!;
    f.onStartup();
    try {
      const res = await serveHandler(f, makeQuery('example.org'));
      assert.equal(res.rcode, 0, String(res.error));
      assert.deepEqual(srv.servernames, ['dns.test']);
    } finally {
      f.onShutdown();
    }
    ({ forwards } = await setupForwards(`.:53 {\n  forward . tls://127.0.0.1:${srv.port} {\n    tls ${ca}\n    tls_servername wrong.test\n    max_fails 0\n  }\n}`));
    f = forwards[0]!;
    f.onStartup();
    try {
      const res = await serveHandler(f, makeQuery('example.org'));
      assert.equal(res.rcode, RCODE.SERVFAIL);
      assert.equal((res.error as Error).message, 'tls: failed to verify certificate: x509: certificate is valid for dns.test, not wrong.test');
    } finally {
      f.onShutdown();
    }
  } finally {
    await srv.close();
  }
});

test('DoT: a client certificate (tls CERT KEY CA) for a server that requires one', async () => {
  const srv = await dotServer({ requestCert: true, rejectUnauthorized: true, ca: readFileSync(ca) });
  try {
    const { forwards } = await setupForwards(`.:53 {\n  forward . tls://127.0.0.1:${srv.port} {\n    tls ${clientCert} ${clientKey} ${ca}\n  }\n}`);
    const f = forwards[0]!;
    f.onStartup();
    try {
      const res = await serveHandler(f, makeQuery('example.org'));
      assert.equal(res.rcode, 0, String(res.error));
      assert.equal(srv.queries.length, 1);
    } finally {
      f.onShutdown();
    }
  } finally {
    await srv.close();
  }
});

interface DohServer {
  port: number;
  requests: { method: string; path: string; version: string; contentType: string | undefined; query: Msg }[];
  reply: 'dns' | 'garbage';
  close(): Promise<void>;
}

/** A DoH server: HTTP/2 with HTTP/1.1 fallback, or HTTP/1.1 only. */
async function dohServer(h1only = false): Promise<DohServer> {
  const st: DohServer = { port: 0, requests: [], reply: 'dns', close: async () => undefined };
  const handle = (req: IncomingMessage | http2.Http2ServerRequest, res: ServerResponse | http2.Http2ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      const wire = req.method === 'GET' ? Buffer.from(url.searchParams.get('dns') ?? '', 'base64url') : Buffer.concat(chunks);
      const q = decodeMessage(wire);
      st.requests.push({ method: req.method ?? '', path: url.pathname, version: req.httpVersion, contentType: req.headers['content-type'], query: q });
      res.setHeader('content-type', 'application/dns-message');
      if (st.reply === 'garbage') {
        res.end('not dns');
        return;
      }
      res.end(encodeMessage(aReply(q, '192.0.2.80')));
    });
  };
  if (h1only) {
    const srv = https.createServer({ key: serverKey, cert: serverCert }, handle);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    st.port = (srv.address() as { port: number }).port;
    st.close = () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      });
  } else {
    const sessions = new Set<http2.ServerHttp2Session>();
    const srv = http2.createSecureServer({ key: serverKey, cert: serverCert, allowHTTP1: true }, handle);
    srv.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    st.port = (srv.address() as { port: number }).port;
    st.close = () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        srv.close(() => r());
      });
  }
  return st;
}

test('DoH: POST over HTTP/2 to /dns-query with ID 0; GET with doh_method GET; HTTP/1.1-only servers work too', async () => {
  for (const [h1only, method] of [
    [false, 'POST'],
    [false, 'GET'],
    [true, 'POST'],
  ] as const) {
    const srv = await dohServer(h1only);
    const s = await serve(`.:0 {\n  forward . https://127.0.0.1:${srv.port} {\n    tls ${ca}\n    doh_method ${method}\n  }\n}`);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await s.send(makeQuery(`q${i}.example.org`, 'A', { id: 1234 + i }));
        assert.equal(r.rcode, RCODE.NOERROR);
        assert.equal(r.id, 1234 + i, 'the client ID is restored');
        assert.equal((r.msg.answers[0] as { data: string }).data, '192.0.2.80');
      }
      assert.equal(srv.requests.length, 3);
      for (const q of srv.requests) {
        assert.equal(q.method, method);
        assert.equal(q.path, '/dns-query');
        assert.equal(q.version, h1only ? '1.1' : '2.0');
        assert.equal(q.contentType, 'application/dns-message');
        assert.equal(q.query.id, 0, 'RFC 8484: ID 0');
      }
    } finally {
      await s.close();
      await srv.close();
    }
  }
});

test('DoH: a bad response is an error that starts a POST health check; durations are recorded', async () => {
  const srv = await dohServer();
  const addr = `127.0.0.1:${srv.port}`;
  const { forwards } = await setupForwards(`.:53 {\n  forward . https://${addr} {\n    tls ${ca}\n    health_check 5s\n  }\n}`);
  const f = forwards[0]!;
  f.onStartup();
  try {
    const count0 = await metric0('coredns_proxy_request_duration_seconds_count', { proxy_name: 'forward', to: addr, rcode: 'NOERROR' });
    let res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, 0);
    assert.equal(await metric0('coredns_proxy_request_duration_seconds_count', { proxy_name: 'forward', to: addr, rcode: 'NOERROR' }), count0 + 1);
    srv.reply = 'garbage';
    res = await serveHandler(f, makeQuery('example.org'));
    assert.equal(res.rcode, RCODE.SERVFAIL);
    assert.equal((res.error as Error).message, 'dns: buffer size too small');
    await waitFor(() => srv.requests.some((r) => r.query.questions[0]!.type === 'NS'), 2000, 'a DoH health check');
    const hc = srv.requests.find((r) => r.query.questions[0]!.type === 'NS')!;
    assert.equal(hc.method, 'POST');
    assert.equal(hc.query.questions[0]!.name, '.');
    await waitFor(() => f.proxies[0]!.fails >= 1, 2000, 'the failed check');
  } finally {
    f.onShutdown();
    await srv.close();
  }
  // nothing listening
  const { forwards: f2 } = await setupForwards(`.:53 {\n  forward . https://${addr} {\n    tls ${ca}\n    max_fails 0\n  }\n}`);
  f2[0]!.onStartup();
  try {
    const res = await serveHandler(f2[0]!, makeQuery('example.org'));
    assert.equal((res.error as Error).message, `Post "https://${addr}/dns-query": dial tcp ${addr}: connect: connection refused`);
  } finally {
    f2[0]!.onShutdown();
  }
});
