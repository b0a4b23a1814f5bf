import http from 'node:http';
import { PluginRegistry, type Controller, type InstanceOptions, type PluginDefinition } from '@tsdns/core';
import { inspectServerBlocks, parseCorefile } from '@tsdns/corefile';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request to `http://HOSTPORT/PATH`. */
export function get(hostport: string, path: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const i = hostport.lastIndexOf(':');
    const req = http.request({ host: hostport.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hostport.slice(i + 1)), path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('HTTP timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true when nothing accepts TCP connections on `hostport`. */
export function refused(hostport: string): Promise<boolean> {
  return get(hostport, '/').then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
  );
}

const LOOP = '__test_loopback';
const loopback: PluginDefinition = {
  name: LOOP,
  setup(c: Controller): void {
    c.config.listenHosts = ['127.0.0.1'];
  },
};

/** What `Instance.restart` needs for a Corefile text, listening on 127.0.0.1 as `serveCorefile` does. */
export function reloadInput(text: string, plugins: PluginDefinition[]): () => Promise<InstanceOptions> {
  return () => {
    const all = [loopback, ...plugins];
    const blocks = inspectServerBlocks(parseCorefile(text, { filename: 'Corefile', validDirectives: new Set(all.map((p) => p.name)) }), { defaultPort: '0' });
    for (const b of blocks) b.block.tokens.set(LOOP, [{ text: LOOP, file: 'Corefile', line: b.block.keyTokens[0]?.line ?? 1 }]);
    return Promise.resolve({ filename: 'Corefile', blocks, registry: PluginRegistry.of(all) });
  };
}
