/**
 * https:// listeners: DNS over HTTPS (RFC 8484) as CoreDNS serves it.
 *
 * - `GET /dns-query?dns=<base64url>` and `POST /dns-query` (body = the DNS
 *   message, any Content-Type); other paths 404 (or the block's
 *   `httpRequestValidate`), other methods and unparsable messages 400,
 *   a chain that wrote nothing 500.
 * - With a `tls` directive: TLS with ALPN `h2` and `http/1.1` (HTTP/2 and
 *   HTTP/1.1 on one port); without: plain HTTP/1.1, as CoreDNS.
 * - The reply carries `Content-Type: application/dns-message` and
 *   `Cache-Control: max-age=<lowest TTL>`; every response is counted in
 *   `coredns_dns_https_responses_total{server,status}`.
 * - At most 200 connections are served at a time (`https { max_connections }`);
 *   further connections wait, accepted but unread, until one closes.
 *
 * The TLS settings are taken per accepted connection from the server currently
 * behind the listener, and each request is served by the current server, so
 * a reload never closes the listening socket.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { registerTransport } from '../instance.js';
import { log } from '../log.js';
import { httpsResponsesCount } from '../metrics.js';
import { getOpt, opcodeOf, rcodeOf } from '../msg.js';
import type { ConnWriter, Server } from '../server.js';
import { DNSSEC_OK, RCODE } from '../wire/constants.js';
import { decodeMessage, DecodeError, encodeMessage, type DnsRecord, type Msg } from '../wire/message.js';
import type { Address, TransportName } from '../writer.js';
import { toAddress } from './addr.js';
import { listenStream, type Listener } from './dns.js';
import { clientAuthAccepts, secureOptions, tlsBlockOf } from './tls.js';

/** The DoH path (RFC 8484 suggests it; CoreDNS serves only it). */
export const DOH_PATH = '/dns-query';
/** The DoH media type. */
export const DOH_MIME_TYPE = 'application/dns-message';
/** CoreDNS's DefaultHTTPSMaxConnections. */
export const DEFAULT_HTTPS_MAX_CONNECTIONS = 200;

const MAX_DNS_QUERY_SIZE = 65536;
const MAX_BASE64_LEN = Math.floor((MAX_DNS_QUERY_SIZE * 8 + 5) / 6);
/** dnsutil.MinimalDefaultTTL / MaximumDefaultTTL, in seconds. */
const MIN_TTL = 5;
const MAX_TTL = 3600;

type DohRequest = IncomingMessage | Http2ServerRequest;
type DohResponse = ServerResponse | Http2ServerResponse;

/** What the handler needs of a response (HTTP/1.1 and the HTTP/2 compatibility API both have it). */
interface ResponseLike {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(data: Buffer): unknown;
}

/** Sends a whole response; a client that went away is not an error. */
function send(r: ResponseLike, status: number, headers: Record<string, string>, body: Buffer): void {
  try {
    r.writeHead(status, headers);
    r.end(body);
  } catch {
    // the stream or connection is already closed
  }
}

function ignore(): void {
  // errors of a connection end it; there is no one to report them to
}

/** The DoH writer: keeps the last message the chain wrote; the HTTP response is sent once the chain is done. */
class DohWriter implements ConnWriter {
  readonly transport: TransportName = 'https';
  readonly proto = 'tcp' as const;
  readonly remote: Address;
  readonly local: Address;
  msg: Msg | undefined = undefined;
  compress = false;

  constructor(remote: Address, local: Address) {
    this.remote = remote;
    this.local = local;
  }
  send(m: Msg, compress: boolean): void {
    this.msg = m;
    this.compress = compress;
  }
  writeMsg(m: Msg): void {
    this.send(m, false);
  }
  /** Wire replies are decoded and re-encoded (uncompressed), as CoreDNS unpacks and re-packs them. */
  write(wire: Uint8Array): void {
    try {
      this.msg = decodeMessage(wire);
    } catch (e) {
      this.msg = e instanceof DecodeError ? e.partial : { id: 0, type: 'response', flags: 0, questions: [], answers: [], authorities: [], additionals: [] };
    }
    this.compress = false;
  }
}

export class HttpsListener implements Listener {
  readonly key: string;
  server: Server;
  private readonly host: string;
  private port: number;
  private srv: net.Server | undefined;
  /** HTTP servers per configuration; they never listen, this listener hands them connections. */
  private readonly secureServers = new WeakMap<Server, http2.Http2SecureServer | false>();
  private readonly plainServers = new WeakMap<Server, http.Server>();
  /** Connections being served (they count against the connection cap). */
  private readonly active = new Set<net.Socket>();
  /** Connections over the cap, waiting for a free slot. */
  private queued: net.Socket[] = [];
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private inflight = 0;
  private draining = false;

  constructor(key: string, host: string, port: number, server: Server) {
    this.key = key;
    this.host = host;
    this.port = port;
    this.server = server;
  }

  async listen(): Promise<void> {
    const srv = net.createServer({ pauseOnConnect: true, noDelay: true }, (raw) => this.onConnection(raw));
    await listenStream(srv, this.host, this.port, 'tcp');
    this.srv = srv;
    if (this.port === 0) this.port = (srv.address() as net.AddressInfo).port;
  }

  addresses(): { transport: string; address: string; port: number }[] {
    if (!this.srv) return [];
    const a = this.srv.address() as net.AddressInfo;
    return [{ transport: 'tcp', address: a.address, port: a.port }];
  }

  async close(graceMs: number): Promise<void> {
    this.draining = true;
    const srv = this.srv;
    const closed = srv ? new Promise<void>((res) => srv.close(() => res())) : Promise.resolve();
    for (const s of this.queued) s.destroy();
    this.queued = [];
    for (const s of this.sessions) s.close();
    const deadline = Date.now() + graceMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.sessions) s.destroy();
    for (const s of this.active) s.destroy();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 100))]);
  }

  private limit(): number {
    const first = this.server.configs[0]?.block.maxHttpsConnections;
    return first ?? DEFAULT_HTTPS_MAX_CONNECTIONS;
  }

  private onConnection(raw: net.Socket): void {
    raw.on('error', ignore);
    if (this.draining) {
      raw.destroy();
      return;
    }
    const limit = this.limit();
    if (limit > 0 && this.active.size >= limit) {
      this.queued.push(raw);
      return;
    }
    this.serveConnection(raw);
  }

  private serveConnection(raw: net.Socket): void {
    this.active.add(raw);
    raw.once('close', () => {
      this.active.delete(raw);
      this.dequeue();
    });
    const server = this.server;
    const secure = this.secureServerFor(server);
    if (secure === false) {
      raw.destroy();
      return;
    }
    if (secure !== undefined) {
      secure.emit('connection', raw);
      return;
    }
    raw.resume();
    this.plainServerFor(server).emit('connection', raw);
  }

  private dequeue(): void {
    const limit = this.limit();
    while (this.queued.length > 0 && (limit <= 0 || this.active.size < limit)) {
      const next = this.queued.shift()!;
      if (next.destroyed) continue;
      this.serveConnection(next);
    }
  }

  /** undefined: no TLS configured (plain HTTP/1.1); false: TLS configured but unusable (logged once). */
  private secureServerFor(server: Server): http2.Http2SecureServer | false | undefined {
    const cached = this.secureServers.get(server);
    if (cached !== undefined) return cached;
    const b = tlsBlockOf(server);
    if (b === undefined) return undefined;
    let srv: http2.Http2SecureServer;
    try {
      srv = http2.createSecureServer({
        ...secureOptions(b),
        allowHTTP1: true,
        ALPNProtocols: ['h2', 'http/1.1'],
        handshakeTimeout: server.readTimeout,
      });
    } catch (e) {
      log.error(`${server.addr}: TLS configuration: ${e instanceof Error ? e.message : String(e)}`);
      this.secureServers.set(server, false);
      return false;
    }
    const auth = b.tlsClientAuth;
    srv.prependListener('secureConnection', (sock: tls.TLSSocket) => {
      if (!clientAuthAccepts(sock, auth)) sock.destroy();
    });
    const keyLog = b.tlsKeyLog;
    if (keyLog) srv.on('keylog', (line: Buffer) => keyLog(line));
    srv.setTimeout(server.idleTimeout);
    srv.on('session', (s: http2.ServerHttp2Session) => {
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
    srv.on('request', (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => this.onRequest(req, res));
    this.secureServers.set(server, srv);
    return srv;
  }

  private plainServerFor(server: Server): http.Server {
    let srv = this.plainServers.get(server);
    if (srv) return srv;
    srv = http.createServer((req, res) => this.onRequest(req, res));
    srv.timeout = server.idleTimeout;
    srv.keepAliveTimeout = server.idleTimeout;
    this.plainServers.set(server, srv);
    return srv;
  }

  private onRequest(req: DohRequest, res: DohResponse): void {
    this.inflight++;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.inflight--;
    };
    res.once('close', finish);
    if (this.draining && req.httpVersionMajor === 1) res.setHeader('Connection', 'close');
    serveDoh(this.server, req, res).then(finish, (e: unknown) => {
      log.error(`DoH request failed: ${e instanceof Error ? e.message : String(e)}`);
      finish();
      if (!res.headersSent) res.destroy();
    });
  }
}

/** Serves one DoH request (ServerHTTPS.ServeHTTP). */
async function serveDoh(server: Server, req: DohRequest, res: DohResponse): Promise<void> {
  const r: ResponseLike = res;
  const target = parseTarget(req.url ?? '');
  if (target === undefined) {
    // Go's HTTP server rejects an unparsable request target before any handler runs
    send(r, 400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }, Buffer.from('400 Bad Request'));
    return;
  }
  const validate = validatorOf(server);
  if (validate ? !validate(req) : target.path !== DOH_PATH) {
    httpError(r, 404, '');
    count(server, 404);
    return;
  }
  let msg: Msg;
  try {
    msg = unpackRequest(await requestWire(req, target.query));
  } catch (e) {
    log.debug(`DoH request could not be parsed: ${e instanceof Error ? e.message : String(e)}`);
    httpError(r, 400, 'invalid request');
    count(server, 400);
    return;
  }
  const sock = req.socket;
  const w = new DohWriter(toAddress(sock.remoteAddress, sock.remotePort), toAddress(sock.localAddress, sock.localPort));
  const p = server.serveMsg(msg, w);
  if (p !== undefined) await p;
  const m = w.msg;
  if (m === undefined) {
    // RFC 8484 4.2.1: the chain wrote nothing
    httpError(r, 500, 'No response');
    count(server, 500);
    return;
  }
  let buf: Buffer;
  try {
    buf = encodeMessage(m, w.compress);
  } catch {
    buf = Buffer.alloc(0); // CoreDNS ignores the pack error and sends an empty body
  }
  const age = minimalTtl(m, typify(m, Math.floor(Date.now() / 1000)));
  count(server, 200);
  send(r, 200, { 'Content-Type': DOH_MIME_TYPE, 'Cache-Control': `max-age=${age}`, 'Content-Length': String(buf.length) }, buf);
}

function count(server: Server, status: number): void {
  httpsResponsesCount.labels(server.addr, String(status)).inc();
}

/** Go's http.Error: plain text, `nosniff`, the text and a newline. */
function httpError(r: ResponseLike, status: number, text: string): void {
  const body = Buffer.from(`${text}\n`);
  send(r, status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(body.length) }, body);
}

/** The request validator of a server: the last block on it that sets one; undefined = the path check. */
function validatorOf(server: Server): ((req: DohRequest) => boolean) | undefined {
  let v: ((req: DohRequest) => boolean) | undefined;
  for (const zc of server.configs) if (zc.block.httpRequestValidate) v = zc.block.httpRequestValidate;
  return v;
}

/** Path (percent-decoded) and raw query of a request target, as Go's url.ParseRequestURI; undefined when invalid. */
export function parseTarget(url: string): { path: string; query: string } | undefined {
  let rest = url;
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  if (!rest.startsWith('/') && rest !== '*') {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*(.*)$/.exec(rest);
    if (!m) return undefined;
    rest = m[1]!;
  }
  const path = unescape(rest, false);
  return path === undefined ? undefined : { path, query };
}

/** Go's url unescape: %XX to a byte (anything else after % is an error); in query mode `+` is a space. */
function unescape(s: string, query: boolean): string | undefined {
  if (!s.includes('%') && !(query && s.includes('+'))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return undefined;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === 0x2b && query) {
      bytes.push(0x20);
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('latin1');
}

/** The values of one key in a raw query, as Go's url.ParseQuery (pairs with `;` or bad escapes are skipped). */
export function queryValues(raw: string, key: string): string[] {
  const out: string[] = [];
  for (const part of raw.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    const k = unescape(eq < 0 ? part : part.slice(0, eq), true);
    if (k === undefined) continue;
    const v = unescape(eq < 0 ? '' : part.slice(eq + 1), true);
    if (v === undefined) continue;
    if (k === key) out.push(v);
  }
  return out;
}

/** base64 without padding, URL alphabet (Go's base64.RawURLEncoding: CR and LF are ignored). */
export function decodeBase64Url(s: string): Buffer {
  const t = s.replace(/[\r\n]/g, '');
  const bad = /[^A-Za-z0-9_-]/.exec(t);
  if (bad) throw new Error(`illegal base64 data at input byte ${bad.index}`);
  if (t.length % 4 === 1) throw new Error(`illegal base64 data at input byte ${t.length - 1}`);
  return Buffer.from(t, 'base64url');
}

/** The DNS message of a DoH request (doh.RequestToMsgWire). */
async function requestWire(req: DohRequest, query: string): Promise<Buffer> {
  switch (req.method) {
    case 'GET': {
      const values = queryValues(query, 'dns');
      if (values.length === 0) throw new Error("no 'dns' query parameter found");
      if (values.length !== 1) throw new Error("multiple 'dns' query values found");
      const b64 = values[0]!;
      if (b64.length > MAX_BASE64_LEN) throw new Error('dns query too large');
      return decodeBase64Url(b64);
    }
    case 'POST':
      return readBody(req, MAX_DNS_QUERY_SIZE);
    default:
      throw new Error(`method not allowed: ${req.method ?? ''}`);
  }
}

function readBody(req: DohRequest, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (d: Buffer): void => {
      if (failed) return;
      size += d.length;
      if (size > limit) {
        failed = true;
        reject(new Error('http: request body too large'));
        return;
      }
      chunks.push(d);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.once('error', (e: Error) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}

/** dnsutil.UnpackRequest: miekg/dns's header policy, then the message. */
export function unpackRequest(buf: Buffer): Msg {
  if (buf.length < 12) throw new Error('dns: buffer size too small');
  const bits = buf.readUInt16BE(2);
  const opcode = (bits >> 11) & 0xf;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  if (bits & 0x8000 || (opcode !== 0 && opcode !== 4) || qd !== 1 || an > 1 || ns > 1 || ar > 2) throw new Error('dns request rejected');
  return decodeMessage(buf);
}

/** response.Type, as far as the DoH max-age needs it. */
enum RespType {
  NoError,
  NameError,
  ServerError,
  NoData,
  Delegation,
  Meta,
  Update,
  OtherError,
}

/** response.Typify (`now` in Unix seconds). */
function typify(m: Msg, now: number): RespType {
  const opt = getOpt(m);
  const opcode = opcodeOf(m);
  if (opcode === 5) return RespType.Update;
  if (opcode === 4) return RespType.Meta;
  const q = m.questions[0];
  if (q && (q.type === 'AXFR' || q.type === 'IXFR')) return RespType.Meta;
  if (opt && opt.flags & DNSSEC_OK) {
    if (hasExpiredSig(m.answers, now) || hasExpiredSig(m.authorities, now) || hasExpiredSig(m.additionals, now)) return RespType.OtherError;
  }
  const rcode = rcodeOf(m);
  if (m.answers.length > 0 && rcode === RCODE.NOERROR) return RespType.NoError;
  if (m.answers.length > 0 && rcode === RCODE.NXDOMAIN) return RespType.OtherError;
  let soa = false;
  let ns = 0;
  for (const r of m.authorities) {
    if (r.type === 'SOA') soa = true;
    else if (r.type === 'NS') ns++;
  }
  if (soa && rcode === RCODE.NOERROR) return RespType.NoData;
  if (rcode === RCODE.NXDOMAIN) return RespType.NameError;
  if (rcode === RCODE.SERVFAIL || rcode === RCODE.NOTIMP) return RespType.ServerError;
  if (ns > 0 && rcode === RCODE.NOERROR) return RespType.Delegation;
  if (rcode === RCODE.NOERROR) return RespType.NoError;
  return RespType.OtherError;
}

const YEAR68 = 2 ** 31;

/** True when a section holds an RRSIG outside its validity period (RRSIG.ValidityPeriod). */
function hasExpiredSig(rrs: DnsRecord[], now: number): boolean {
  for (const r of rrs) {
    if (r.type !== 'RRSIG') continue;
    const period = sigPeriod(r.data);
    if (!period) continue;
    const modi = Math.trunc((period.inception - now) / YEAR68);
    const mode = Math.trunc((period.expiration - now) / YEAR68);
    const ti = period.inception + modi * YEAR68;
    const te = period.expiration + mode * YEAR68;
    if (!(ti <= now && now <= te)) return true;
  }
  return false;
}

function sigPeriod(data: unknown): { inception: number; expiration: number } | undefined {
  if (data instanceof Uint8Array) {
    if (data.length < 16) return undefined;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return { expiration: v.getUint32(8), inception: v.getUint32(12) };
  }
  if (typeof data === 'object' && data !== null) {
    const o = data as { inception?: unknown; expiration?: unknown };
    if (typeof o.inception === 'number' && typeof o.expiration === 'number') return { inception: o.inception, expiration: o.expiration };
  }
  return undefined;
}

/** TTL of a record as it goes on the wire (an OPT's TTL field is its extended rcode, version and flags). */
function ttlOf(r: DnsRecord): number {
  if (r.type === 'OPT' && 'udpPayloadSize' in r) return ((r.extendedRcode & 0xff) * 2 ** 24 + ((r.ednsVersion & 0xff) << 16) + (r.flags & 0xffff)) >>> 0;
  return ('ttl' in r ? (r.ttl ?? 0) : 0) >>> 0;
}

/** dnsutil.MinimalTTLWithMaximum(m, type, 1h) in seconds. */
function minimalTtl(m: Msg, mt: RespType): number {
  if (mt !== RespType.NoError && mt !== RespType.NameError && mt !== RespType.NoData) return MIN_TTL;
  const extra = m.additionals;
  if (m.answers.length + m.authorities.length === 0 && (extra.length === 0 || (extra.length === 1 && extra[0]!.type === 'OPT'))) return MIN_TTL;
  let min = MAX_TTL;
  for (const r of m.answers) min = Math.min(min, ttlOf(r));
  for (const r of m.authorities) min = Math.min(min, ttlOf(r));
  for (const r of extra) if (r.type !== 'OPT') min = Math.min(min, ttlOf(r));
  return min;
}

registerTransport('https', (key, host, port, server) => new HttpsListener(key, host, port, server));
