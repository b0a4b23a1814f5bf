/**
 * The plugins' HTTP endpoints under `-workers N`, in the primary process.
 *
 * Each worker serves its plugin HTTP servers (prometheus, health, ready, a
 * third-party plugin's) on private loopback ports and registers them here
 * under the configured address; the primary opens that address once, with
 * CoreDNS's listen semantics and errors, and stands in front of the workers:
 *
 * - `GET /ready` (and HEAD) is asked of every worker: 200 only when every
 *   worker serves and answers 200, otherwise the first other answer (the
 *   ready plugin's 503 with the plugins not ready), or 503 naming the workers
 *   that are not serving (starting, restarting);
 * - any other request goes to one worker, round robin (`/health`: "OK" from a
 *   live worker; `/metrics`: the worker renders the sum over all workers);
 * - a TLS endpoint (prometheus with a web config) is passed through at the
 *   TCP level to one worker (the TLS session ends in the worker).
 *
 * The address is closed when its last worker closed its server (reload,
 * shutdown), as the single process closes it.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { HTTP_TIMEOUT_MS, closeHttp, listenHttp, requestPath } from '@tsdns/core';

interface Backend {
  workerId: number;
  port: number;
}

export interface FrontContext {
  /** Ids of the workers that serve now (every one of them must be ready). */
  servingWorkers(): number[];
  /** Slot numbers (1..N) without a serving worker (starting, restarting). */
  slotsNotServing(): number[];
  /** The slot number of a worker id. */
  slotOf(workerId: number): number | undefined;
}

interface Answer {
  status: number;
  headers: string[];
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);
/** Request bodies these endpoints take are tiny; anything larger is refused. */
const MAX_BODY = 1 << 20;

class Front {
  readonly addr: string;
  readonly tls: boolean;
  readonly backends: Backend[] = [];
  server!: net.Server;
  bound!: AddressInfo;
  private rr = 0;
  private readonly ctx: FrontContext;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(addr: string, tls: boolean, ctx: FrontContext) {
    this.addr = addr;
    this.tls = tls;
    this.ctx = ctx;
  }

  async open(): Promise<void> {
    if (this.tls) {
      this.server = net.createServer({ pauseOnConnect: true }, (sock) => this.pipe(sock));
    } else {
      this.server = http.createServer(
        { requestTimeout: HTTP_TIMEOUT_MS, headersTimeout: HTTP_TIMEOUT_MS, keepAliveTimeout: HTTP_TIMEOUT_MS },
        (req, res) => void this.handle(req, res),
      );
    }
    // the primary has no listen hook: this is CoreDNS's listen, with its error texts
    this.bound = await listenHttp(this.server as http.Server, this.addr);
  }

  close(): Promise<void> {
    this.agent.destroy();
    if (this.server instanceof http.Server) return closeHttp(this.server);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Backends in round-robin order, starting with the next one. */
  private order(): Backend[] {
    const n = this.backends.length;
    if (n === 0) return [];
    const start = this.rr++ % n;
    return [...this.backends.slice(start), ...this.backends.slice(0, start)];
  }

  private pipe(sock: net.Socket): void {
    sock.on('error', () => sock.destroy());
    const candidates = this.order();
    const attempt = (i: number): void => {
      const b = candidates[i];
      if (b === undefined) {
        sock.destroy();
        return;
      }
      const up = net.connect(b.port, '127.0.0.1');
      let connected = false;
      up.once('connect', () => {
        connected = true;
        sock.pipe(up);
        up.pipe(sock);
        sock.resume();
      });
      up.on('error', () => {
        if (!connected) attempt(i + 1);
        else sock.destroy();
      });
      up.on('close', () => {
        if (connected) sock.destroy();
      });
      sock.once('close', () => up.destroy());
    };
    attempt(0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      send(res, { status: 413, headers: ['Content-Type', 'text/plain; charset=utf-8'], body: Buffer.from('request body too large\n') });
      return;
    }
    const readiness = requestPath(req.url) === '/ready' && (req.method === 'GET' || req.method === 'HEAD');
    send(res, readiness ? await this.everyWorker(req, body) : await this.oneWorker(req, body));
  }

  /** /ready: every worker must serve and say 200. */
  private async everyWorker(req: IncomingMessage, body: Buffer): Promise<Answer> {
    const registered = new Set(this.backends.map((b) => b.workerId));
    const missing = [...this.ctx.slotsNotServing()];
    for (const id of this.ctx.servingWorkers()) if (!registered.has(id)) missing.push(this.ctx.slotOf(id) ?? 0);
    if (missing.length > 0) return text(503, `worker ${missing.sort((a, b) => a - b).join(',')} not ready`);
    const answers = await Promise.all(this.backends.map((b) => this.fetch(b, req, body).catch(() => text(503, 'Shutting down'))));
    if (answers.length === 0) return text(503, 'Shutting down');
    return answers.find((a) => a.status !== 200) ?? answers[0]!;
  }

  /** Anything else: one worker, the next that answers. */
  private async oneWorker(req: IncomingMessage, body: Buffer): Promise<Answer> {
    for (const b of this.order()) {
      try {
        return await this.fetch(b, req, body);
      } catch {
        // that worker went away: the next one
      }
    }
    return text(503, 'no worker available');
  }

  private fetch(b: Backend, req: IncomingMessage, body: Buffer): Promise<Answer> {
    const headers: string[] = [];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!;
      const lk = k.toLowerCase();
      if (HOP_BY_HOP.has(lk) || lk === 'content-length') continue;
      headers.push(k, raw[i + 1]!);
    }
    if (body.length > 0) headers.push('Content-Length', String(body.length));
    return new Promise((resolve, reject) => {
      const up = http.request({ host: '127.0.0.1', port: b.port, method: req.method, path: req.url, headers, agent: this.agent, timeout: HTTP_TIMEOUT_MS }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (d: Buffer) => chunks.push(d));
        r.on('end', () => {
          const out: string[] = [];
          for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
            if (!HOP_BY_HOP.has(r.rawHeaders[i]!.toLowerCase())) out.push(r.rawHeaders[i]!, r.rawHeaders[i + 1]!);
          }
          resolve({ status: r.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        r.on('error', reject);
      });
      up.on('timeout', () => up.destroy(new Error('timeout')));
      up.on('error', reject);
      up.end(body.length > 0 ? body : undefined);
    });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (d: Buffer) => {
      n += d.length;
      if (n > MAX_BODY) {
        req.destroy();
        reject(new Error('too large'));
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function text(status: number, body: string): Answer {
  return { status, headers: ['Content-Type', 'text/plain; charset=utf-8'], body: Buffer.from(body) };
}

function send(res: ServerResponse, a: Answer): void {
  if (res.headersSent || res.destroyed) return;
  const hasLength = a.headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length');
  const headers = hasLength ? a.headers : [...a.headers, 'Content-Length', String(a.body.length)];
  res.writeHead(a.status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : a.body);
}

/** Every plugin HTTP address the workers serve, by configured address (`:8080`, `localhost:9153`). */
export class HttpFronts {
  private readonly fronts = new Map<string, Front>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly closing = new Set<Promise<void>>();
  private readonly ctx: FrontContext;

  constructor(ctx: FrontContext) {
    this.ctx = ctx;
  }

  /** One operation at a time per address. */
  private serial<T>(addr: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(addr) ?? Promise.resolve()).then(fn);
    this.chains.set(
      addr,
      run.catch(() => undefined),
    );
    return run;
  }

  /** A worker serves `addr` on its private `port`: opens the address if needed; resolves with what it is bound to. */
  register(workerId: number, addr: string, port: number, tls: boolean): Promise<AddressInfo> {
    return this.serial(addr, async () => {
      let f = this.fronts.get(addr);
      if (f && f.tls !== tls) {
        // the configuration changed between plain HTTP and TLS: start over with this worker
        this.fronts.delete(addr);
        this.retire(f);
        f = undefined;
      }
      if (!f) {
        const nf = new Front(addr, tls, this.ctx);
        await nf.open();
        this.fronts.set(addr, nf);
        f = nf;
      }
      f.backends.push({ workerId, port });
      return f.bound;
    });
  }

  /** A worker closed its server of `addr`. */
  unregister(workerId: number, addr: string, port: number): void {
    void this.serial(addr, async () => {
      const f = this.fronts.get(addr);
      if (!f) return;
      const i = f.backends.findIndex((b) => b.workerId === workerId && b.port === port);
      if (i >= 0) f.backends.splice(i, 1);
      if (f.backends.length === 0) {
        this.fronts.delete(addr);
        this.retire(f);
      }
    });
  }

  /** A worker exited: its servers are gone. */
  dropWorker(workerId: number): void {
    for (const [addr, f] of this.fronts) {
      for (const b of f.backends.filter((x) => x.workerId === workerId)) this.unregister(workerId, addr, b.port);
    }
  }

  /** Stops listening now (the address can be opened again at once); connections finish in the background. */
  private retire(f: Front): void {
    const p = f.close();
    this.closing.add(p);
    void p.then(() => this.closing.delete(p));
  }

  /** Configured addresses open now. */
  addresses(): string[] {
    return [...this.fronts.keys()];
  }

  async closeAll(): Promise<void> {
    for (const f of this.fronts.values()) this.retire(f);
    this.fronts.clear();
    await Promise.all([...this.closing]);
  }
}
