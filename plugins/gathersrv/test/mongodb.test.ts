/**
 * A strict SRV consumer: the real MongoDB Node.js driver resolving a
 * `mongodb+srv://` seed list through tsdns. The driver asks SRV (and TXT)
 * with `dns.promises` (pointed at tsdns with `dns.setServers`), checks that
 * every target shares the parent domain of the seed name — which only the
 * masqueraded names do — and then connects to each host, resolving it with
 * the `lookup` we give it (A through tsdns). No MongoDB server runs: local TCP
 * listeners on the hosts' loopback addresses record the connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import net from 'node:net';
import { MongoClient } from 'mongodb';
import type { RR } from '@tsdns/core';
import { serveCorefile } from '@tsdns/testing';
import { clusterServer, corefile, delay, plugins, type ClusterZone } from './helpers.js';

const HOSTS = { a: ['127.0.1.1', '127.0.1.2'], b: ['127.0.2.1', '127.0.2.2'] };

/** A replica set `rs` in namespace `db` of a cluster: one SRV per member, A records on loopback. */
function replicaSet(c: 'a' | 'b', port: number): ClusterZone {
  const apex = `cluster-${c}.local.`;
  const records: RR[] = [];
  HOSTS[c].forEach((ip, i) => {
    const host = `rs-${i}.rs.db.svc.${apex}`;
    records.push({ name: `_mongodb._tcp.rs.db.svc.${apex}`, type: 'SRV', class: 'IN', ttl: 30, data: { priority: 0, weight: 0, port, target: host } });
    records.push({ name: host, type: 'A', class: 'IN', ttl: 30, data: ip });
  });
  return { apex, records };
}

async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('mongodb+srv: the driver finds and connects to the members of both clusters', async () => {
  const port = await freeTcpPort();
  const a = await clusterServer(replicaSet('a', port));
  const b = await clusterServer(replicaSet('b', port));
  const s = await serveCorefile(corefile(a, b), { plugins });
  const tsdns = `127.0.0.1:${s.udpAddress().port}`;
  const listeners: net.Server[] = [];
  const connected = new Set<string>();
  let client: MongoClient | undefined;
  try {
    // "mongod"s that only note who connected
    for (const ip of [...HOSTS.a, ...HOSTS.b]) {
      const srv = net.createServer((sock) => {
        if (sock.localAddress) connected.add(sock.localAddress);
        sock.destroy();
      });
      await new Promise<void>((r) => srv.listen(port, ip, r));
      listeners.push(srv);
    }
    dns.setServers([tsdns]); // the driver's SRV/TXT queries (dns.promises)
    const resolver = new dns.Resolver();
    resolver.setServers([tsdns]);
    const lookups: string[] = [];
    // the hosts' addresses, through tsdns too
    const lookup = (hostname: string, options: dns.LookupOptions, cb: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void): void => {
      resolver.resolve4(hostname, (err, addrs) => {
        if (err) return cb(err, '');
        lookups.push(`${hostname} ${addrs.join(',')}`);
        if (options.all) cb(null, addrs.map((address) => ({ address, family: 4 })));
        else cb(null, addrs[0]!, 4);
      });
    };
    client = new MongoClient('mongodb+srv://rs.db.svc.distributed.local/?tls=false&serverSelectionTimeoutMS=5000&connectTimeoutMS=1000', { lookup });
    const opening: string[] = [];
    client.on('serverOpening', (e) => opening.push(e.address));
    const connecting = client.connect().then(
      () => 'connected',
      (e: unknown) => (e instanceof Error ? e.name : String(e)),
    );
    for (let i = 0; i < 200 && connected.size < 4; i++) await delay(20);

    assert.deepEqual(opening.sort(), [
      `a-rs-0.rs.db.svc.distributed.local:${port}`,
      `a-rs-1.rs.db.svc.distributed.local:${port}`,
      `b-rs-0.rs.db.svc.distributed.local:${port}`,
      `b-rs-1.rs.db.svc.distributed.local:${port}`,
    ]);
    assert.ok(lookups.includes('a-rs-0.rs.db.svc.distributed.local 127.0.1.1'), lookups.join('\n'));
    assert.ok(lookups.includes('b-rs-1.rs.db.svc.distributed.local 127.0.2.2'), lookups.join('\n'));
    assert.deepEqual([...connected].sort(), [...HOSTS.a, ...HOSTS.b]);
    await client.close();
    client = undefined;
    assert.notEqual(await connecting, 'connected');
  } finally {
    await client?.close();
    for (const l of listeners) await new Promise<void>((r) => l.close(() => r()));
    await s.close();
    await Promise.all([a.close(), b.close()]);
  }
});
