#!/usr/bin/env node
// The reference server of the benchmarks: the fastest a single Node.js process
// can answer DNS over UDP. It keeps the first reply it builds and afterwards
// only patches the query ID into a copy. Every tsdns figure is quoted as a
// ratio to this server, measured in the same round.
//
//   node test/bench/reference.mjs PORT [HOST]
import dgram from 'node:dgram';

const port = Number(process.argv[2] ?? 15300);
const host = process.argv[3] ?? '127.0.0.1';
const sock = dgram.createSocket('udp4');
const replies = new Map();

sock.on('message', (m, rinfo) => {
  if (m.length < 12) return;
  // key: the query without its ID, so each distinct question gets its own reply
  const key = m.toString('latin1', 2);
  let reply = replies.get(key);
  if (reply === undefined) {
    reply = Buffer.from(m);
    reply[2] |= 0x84; // QR, AA
    replies.set(key, reply);
  }
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  out[0] = m[0];
  out[1] = m[1];
  sock.send(out, rinfo.port, rinfo.address);
});
sock.bind(port, host, () => {
  process.stdout.write(`reference listening on ${host}:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
