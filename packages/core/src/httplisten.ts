/**
 * HTTP listeners for plugins (prometheus, health, ready, ...) the way CoreDNS opens them: Go's `net.SplitHostPort`
 * validation, `net.Listen("tcp", addr)` address resolution (a host name
 * listens on its first IPv4 address) and Go's error texts, 5 s timeouts, and
 * a graceful close bounded by 5 s (`http.Server.Shutdown`).
 */
import { lookup } from 'node:dns/promises';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { httpListenHook } from './cluster.js';
import { joinHostPort } from './transport/addr.js';

/** Go's `net.SplitHostPort`; throws Go's `address X: ...` errors. */
export function goSplitHostPort(hostport: string): { host: string; port: string } {
  const fail = (why: string): never => {
    throw new Error(`address ${hostport}: ${why}`);
  };
  const i = hostport.lastIndexOf(':');
  if (i < 0) fail('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) fail("missing ']' in address");
    if (end + 1 === hostport.length) fail('missing port in address');
    else if (end + 1 !== i) {
      if (hostport[end + 1] === ':') fail('too many colons in address');
      fail('missing port in address');
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) fail('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) fail("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) fail("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}


const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EAFNOSUPPORT: 'address family not supported by protocol',
};

/**
 * Resolves a `host:port` as Go's `net.Listen("tcp", ...)`: empty host = every
 * interface; a name listens on its first IPv4 address (else its first
 * address). Throws Go's `listen tcp: ...` texts.
 */
export async function resolveListenAddress(addr: string): Promise<{ host: string | undefined; port: number }> {
  const { host, port: portText } = goSplitHostPort(addr);
  let port = 0;
  if (portText !== '') {
    if (!/^\d+$/.test(portText)) throw new Error(`listen tcp: address tcp/${portText}: unknown port`);
    port = Number(portText);
    if (port > 65535) throw new Error(`listen tcp: address ${portText}: invalid port`);
  }
  if (host === '') return { host: undefined, port };
  const bare = host.replace(/%.*$/, '');
  if (isIP(bare) !== 0) return { host, port };
  let all: { address: string; family: number }[];
  try {
    all = await lookup(host, { all: true });
  } catch {
    throw new Error(`listen tcp: lookup ${host}: no such host`);
  }
  const pick = all.find((a) => a.family === 4) ?? all[0];
  if (!pick) throw new Error(`listen tcp: lookup ${host}: no such host`);
  return { host: pick.address, port };
}

/** Starts `server` listening on `addr`; resolves with the bound address. */
export async function listenHttp(server: HttpServer, addr: string): Promise<AddressInfo> {
  // under -workers N the primary process opens the address (cluster.ts)
  const hook = httpListenHook();
  if (hook) return hook(server, addr);
  const { host, port } = await resolveListenAddress(addr);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const shown = joinHostPort(host ?? '::', port);
      const text = (e.code && ERRNO_TEXT[e.code]) ?? e.message;
      reject(new Error(`listen tcp ${shown}: bind: ${text}`));
    };
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (host === undefined) server.listen(port, done);
    else server.listen(port, host, done);
  });
  return server.address() as AddressInfo;
}

/** CoreDNS's HTTP servers' timeouts (read, write, idle: 5 s). */
export const HTTP_TIMEOUT_MS = 5000;

/**
 * Go's `http.Server.Shutdown` with a 5 s context: stop accepting, close idle
 * connections, wait for active requests, then cut whatever is left.
 */
export function closeHttp(server: HttpServer, graceMs = HTTP_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      server.closeAllConnections();
      resolve();
      return;
    }
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** The path of a request target (`/metrics?x` -> `/metrics`; absolute-form too). */
export function requestPath(url: string | undefined): string {
  if (url === undefined) return '/';
  if (url[0] !== '/') {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  }
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Go's `http.NotFound`. */
export function notFoundBody(): { headers: Record<string, string>; body: string } {
  return { headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body: '404 page not found\n' };
}
