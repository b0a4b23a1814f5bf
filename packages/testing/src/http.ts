/** A small HTTP client for tests of plugins that serve HTTP (prometheus, health, ready). */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
}

/**
 * One HTTP/1.1 request to `http://HOSTPORT/PATH` (HOSTPORT may be `[::1]:80`),
 * 5 s timeout; gzip bodies are decoded. The third argument is the method or
 * the options.
 */
export function httpGet(hostport: string, path: string, opts: string | HttpOptions = {}): Promise<HttpResult> {
  const o: HttpOptions = typeof opts === 'string' ? { method: opts } : opts;
  return new Promise((resolve, reject) => {
    const i = hostport.lastIndexOf(':');
    const host = hostport.slice(0, i).replace(/^\[|\]$/g, '');
    const req = http.request({ host, port: Number(hostport.slice(i + 1)), path, method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let buf = Buffer.concat(chunks);
        if (res.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error('HTTP timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** True when nothing accepts TCP connections on `hostport`. */
export function httpRefused(hostport: string): Promise<boolean> {
  return httpGet(hostport, '/').then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
  );
}
