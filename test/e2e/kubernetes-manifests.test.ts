/**
 * examples/kubernetes: the manifests agree with each other, with the image
 * (Dockerfile) and with the Corefile they ship, and that Corefile runs on the
 * real tsdns. No Kubernetes and no Docker here: the manifests are read with
 * targeted patterns (they are written in one plain style) and the ConfigMap's
 * Corefile is taken out of its block scalar and served on loopback, its ports
 * and upstreams swapped for test ones.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newReply, setRcode, type RR, type SrvData } from '@tsdns/core';
import { freePort, httpGet, makeQuery, queryTcp, queryUdp, REPO_ROOT, spawnTsdns, startUpstream, type TsdnsProcess, type Upstream } from '@tsdns/testing';
import { DEMO_SRV, assertDemoSrvAnswer } from './helpers.js';

const DIR = join(REPO_ROOT, 'examples', 'kubernetes');
const read = (...p: string[]): string => readFileSync(join(...p), 'utf8');

/** The manifest files `kubectl apply -f examples/kubernetes/` applies, in its (name) order. */
const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const manifest = (kind: string): string => {
  const docs = files.flatMap((f) => read(DIR, f).split(/^---$/m)).filter((d) => new RegExp(`^kind: ${kind}$`, 'm').test(d));
  assert.equal(docs.length, 1, `one ${kind} in examples/kubernetes`);
  return docs[0]!;
};

/** The one match of `re` in `text` (its groups), failing the test when there is none. */
function one(text: string, re: RegExp, what: string): string[] {
  const m = re.exec(text);
  assert.ok(m, `${what}: expected ${re}`);
  return m.slice(1);
}

/**
 * The `Corefile: |` block scalar of a ConfigMap, as YAML reads it: the lines
 * indented deeper than the key, without the indentation of the first one,
 * ending with one newline (clip chomping).
 */
function corefileOf(configMap: string): string {
  const lines = configMap.split('\n');
  const at = lines.findIndex((l) => /^\s+Corefile: \|$/.test(l));
  assert.ok(at >= 0, 'the ConfigMap has a `Corefile: |` key');
  const keyIndent = lines[at]!.search(/\S/);
  const body: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (l.trim() !== '' && l.search(/\S/) <= keyIndent) break;
    body.push(l);
  }
  const indent = body.find((l) => l.trim() !== '')!.search(/\S/);
  for (const l of body) if (l.trim() !== '') assert.ok(l.search(/\S/) >= indent, `Corefile line less indented than the first: ${JSON.stringify(l)}`);
  return body.map((l) => l.slice(indent)).join('\n').replace(/\n*$/, '\n');
}

interface Directive {
  name: string;
  args: string[];
}
interface Block {
  keys: string[];
  directives: Directive[];
}

/** Server blocks and their directives (with the arguments on the directive's line). */
function serverBlocks(corefile: string): Block[] {
  const blocks: Block[] = [];
  let depth = 0;
  for (const raw of corefile.split('\n')) {
    const words = raw.replace(/#.*/, '').trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) continue;
    if (depth === 0) {
      assert.equal(words.at(-1), '{', `a server block opens on one line: ${raw}`);
      blocks.push({ keys: words.slice(0, -1), directives: [] });
    } else if (depth === 1 && words[0] !== '}') {
      blocks.at(-1)!.directives.push({ name: words[0]!, args: words.slice(1).filter((w) => w !== '{') });
    }
    for (const w of words) depth += w === '{' ? 1 : w === '}' ? -1 : 0;
  }
  assert.equal(depth, 0, 'balanced braces');
  return blocks;
}

/** The port of an address as the plugins read it (`:8080`, `0.0.0.0:8181`). */
const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

/** The address a directive listens on: its first argument, or the plugin's default. */
function listenAddr(blocks: Block[], name: string, dflt: string): string {
  const ds = blocks.flatMap((b) => b.directives).filter((d) => d.name === name);
  assert.ok(ds.length > 0, `the Corefile has ${name}`);
  const addrs = new Set(ds.map((d) => d.args[0] ?? dflt));
  assert.equal(addrs.size, 1, `every ${name} listens on one address`);
  return [...addrs][0]!;
}

/** Dockerfile instructions (continuation lines joined, comments dropped). */
function dockerfile(): { op: string; args: string }[] {
  const text = read(REPO_ROOT, 'Dockerfile').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => {
      const [, op, args] = /^\s*(\w+)\s+(.*)$/.exec(l)!;
      return { op: op!.toUpperCase(), args: args!.trim() };
    });
}

/** A rewrite that must change the text: a reshaped Corefile fails here instead of being served unchanged. */
function swap(text: string, from: string | RegExp, to: string): string {
  const out = typeof from === 'string' ? text.replaceAll(from, to) : text.replace(from, to);
  assert.notEqual(out, text, `expected ${String(from)} in the Corefile`);
  return out;
}

/** Loopback ports a shipped Corefile is moved to. */
interface TestPorts {
  dns: number;
  health: number;
  ready: number;
  metrics: number;
}

/** A shipped Corefile on loopback test ports, `forward . /etc/resolv.conf` sent to `upstream`. */
async function onLoopback(text: string, upstream: string): Promise<{ text: string; ports: TestPorts }> {
  const [dns, health, ready, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
  text = swap(text, /^\.:53 \{$/m, `.:${dns} {\n    bind 127.0.0.1`);
  text = swap(text, /^(\s+)health \{$/m, `$1health 127.0.0.1:${health} {`);
  text = swap(text, /^(\s+)ready$/m, `$1ready 127.0.0.1:${ready}`);
  text = swap(text, 'prometheus :9153', `prometheus 127.0.0.1:${metrics}`);
  text = swap(text, 'forward . /etc/resolv.conf', `forward . ${upstream}`);
  return { text, ports: { dns, health, ready, metrics } };
}

const procs: TsdnsProcess[] = [];
const ups: Upstream[] = [];

/** The real tsdns on a Corefile (checked to have started). */
async function serve(text: string | null, opts: Parameters<typeof spawnTsdns>[1]): Promise<TsdnsProcess> {
  const proc = await spawnTsdns(text, opts);
  procs.push(proc);
  assert.equal(proc.exited, false, proc.stderrText());
  return proc;
}
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  for (const u of ups) await u.close();
});

test('every manifest is one object of the tsdns namespace, all named tsdns and labelled alike', () => {
  assert.deepEqual(files, ['00-namespace.yaml', '10-serviceaccount.yaml', '20-configmap.yaml', '30-deployment.yaml', '40-service.yaml']);
  for (const f of files) {
    const text = read(DIR, f);
    assert.equal(text.split(/^---$/m).length, 1, `${f}: one object`);
    assert.match(text, /^apiVersion: (v1|apps\/v1)$/m, f);
    assert.match(text, /^metadata:\n {2}name: tsdns\n/m, `${f}: metadata.name`);
    if (!/^kind: Namespace$/m.test(text)) assert.match(text, /^metadata:\n {2}name: tsdns\n {2}namespace: tsdns\n/m, `${f}: metadata.namespace`);
    assert.match(text, /^ {2}labels:\n {4}app\.kubernetes\.io\/name: tsdns$/m, `${f}: labels`);
    assert.doesNotMatch(text, /\t/, `${f}: no tabs in YAML`);
  }
  // the Namespace comes first: `kubectl apply -f DIR` applies the files in name order
  assert.match(read(DIR, files[0]!), /^kind: Namespace$/m);
});

test('the Deployment runs the image with the ConfigMap on /etc/coredns, as the Dockerfile expects', () => {
  const dep = manifest('Deployment');
  const cm = manifest('ConfigMap');
  const svc = manifest('Service');
  const label = 'app.kubernetes.io/name: tsdns';
  assert.ok(dep.includes(`selector:\n    matchLabels:\n      ${label}\n`), 'Deployment selector');
  assert.ok(dep.includes(`template:\n    metadata:\n      labels:\n        ${label}\n`), 'pod labels match the selector');
  assert.ok(svc.includes(`selector:\n    ${label}\n`), 'the Service selects the pods');
  assert.match(dep, /^ {2}replicas: 2$/m);
  assert.equal(one(dep, /^ {6}serviceAccountName: (\S+)$/m, 'serviceAccountName')[0], 'tsdns');

  // args (the uncommented line) = the image's CMD; the file they name is on the ConfigMap volume
  const args = JSON.parse(`[${one(dep, /^ {8}args: \[(.*)\]$/m, 'args')[0]}]`) as string[];
  const df = dockerfile();
  const cmd = df.filter((i) => i.op === 'CMD');
  assert.equal(cmd.length, 1);
  assert.deepEqual(args, JSON.parse(cmd[0]!.args));
  assert.deepEqual(JSON.parse(df.find((i) => i.op === 'ENTRYPOINT')!.args), ['node', 'packages/cli/bin/tsdns.js']);
  assert.equal(args[0], '-conf');
  const conf = args[1]!;
  const [mountName, mountPath] = one(dep, /- name: (\S+)\n\s+mountPath: (\S+)\n\s+readOnly: true\n/, 'volumeMounts');
  const [volName, cmName, key, path] = one(dep, /- name: (\S+)\n\s+configMap:\n\s+name: (\S+)\n\s+items:\n\s+- key: (\S+)\n\s+path: (\S+)\n/, 'configMap volume');
  assert.equal(mountName, volName);
  assert.equal(mountPath, '/etc/coredns');
  assert.equal(`${mountPath}/${path}`, conf, '-conf names the mounted Corefile');
  assert.equal(cmName, one(cm, /^metadata:\n {2}name: (\S+)$/m, 'ConfigMap name')[0]);
  assert.equal(key, 'Corefile');
  // the image ships a Corefile at the same place (used without the ConfigMap, e.g. docker run)
  assert.ok(df.some((i) => i.op === 'COPY' && i.args === `examples/Corefile.kubernetes-default ${conf}`));

  // CoreDNS's container hardening, and what port 53 needs as uid 65532
  assert.match(dep, /allowPrivilegeEscalation: false\n\s+capabilities:\n\s+add:\n\s+- NET_BIND_SERVICE\n\s+drop:\n\s+- ALL\n\s+readOnlyRootFilesystem: true\n/);
  assert.match(dep, /runAsNonRoot: true\n\s+runAsUser: 65532\n\s+runAsGroup: 65532\n/);
  assert.ok(df.some((i) => i.op === 'USER' && i.args === '65532:65532'), 'the image runs as the uid the Deployment names');
  assert.ok(df.some((i) => i.op === 'RUN' && /setcap cap_net_bind_service=\+ep /.test(i.args)), 'node may bind port 53');
  assert.match(dep, /^ {6}dnsPolicy: Default$/m);
});

test('probes, container ports and Service ports agree with the Corefile', () => {
  const blocks = serverBlocks(corefileOf(manifest('ConfigMap')));
  const dep = manifest('Deployment');
  const svc = manifest('Service');

  const probe = (kind: string): { path: string; port: number } => {
    const [path, port] = one(dep, new RegExp(`${kind}:\\n\\s+httpGet:\\n\\s+path: (\\S+)\\n\\s+port: (\\d+)\\n\\s+scheme: HTTP\\n`), kind);
    return { path: path!, port: Number(port) };
  };
  // health's and ready's defaults are :8080 and :8181 (plugins/health, plugins/ready)
  assert.deepEqual(probe('livenessProbe'), { path: '/health', port: portOf(listenAddr(blocks, 'health', ':8080')) });
  assert.deepEqual(probe('readinessProbe'), { path: '/ready', port: portOf(listenAddr(blocks, 'ready', ':8181')) });

  const cports = [...dep.matchAll(/- containerPort: (\d+)\n\s+name: ([a-z0-9-]+)\n\s+protocol: (UDP|TCP)\n/g)].map((m) => ({ port: Number(m[1]), name: m[2]!, protocol: m[3]! }));
  const dnsPorts = new Set(blocks.map((b) => portOf(b.keys[0]!)));
  assert.equal(dnsPorts.size, 1);
  const dnsPort = [...dnsPorts][0]!;
  const metricsPort = portOf(listenAddr(blocks, 'prometheus', 'localhost:9153'));
  assert.ok(!listenAddr(blocks, 'prometheus', 'localhost:9153').startsWith('localhost'), 'metrics listen beyond the pod');
  assert.deepEqual(cports, [
    { port: dnsPort, name: 'dns', protocol: 'UDP' },
    { port: dnsPort, name: 'dns-tcp', protocol: 'TCP' },
    { port: metricsPort, name: 'metrics', protocol: 'TCP' },
  ]);

  assert.match(svc, /^ {2}type: ClusterIP$/m);
  const sports = [...svc.matchAll(/- name: ([a-z0-9-]+)\n\s+port: (\d+)\n\s+targetPort: ([a-z0-9-]+)\n\s+protocol: (UDP|TCP)\n/g)].map((m) => ({ name: m[1]!, port: Number(m[2]), target: m[3]!, protocol: m[4]! }));
  assert.equal(sports.length, 3);
  for (const s of sports) {
    const c = cports.find((p) => p.name === s.target);
    assert.ok(c, `Service port ${s.name} targets a container port by name`);
    assert.equal(s.protocol, c.protocol, s.name);
    assert.equal(s.port, c.port, `${s.name}: the Service port is the container's`);
    assert.equal(s.name, c.name);
  }
  assert.equal(one(svc, /prometheus\.io\/port: "(\d+)"/, 'scrape annotation')[0], String(metricsPort));

  // the image exposes the same ports
  const expose = dockerfile().filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  assert.deepEqual(expose.sort(), cports.map((c) => `${c.port}/${c.protocol.toLowerCase()}`).sort());
});

test('the ConfigMap holds the kubeadm-style Corefile the image ships, with plugins this build has', () => {
  const corefile = corefileOf(manifest('ConfigMap'));
  const lines = (t: string): string[] => t.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  assert.deepEqual(lines(corefile), lines(read(REPO_ROOT, 'examples', 'Corefile.kubernetes-default')));
  const known = new Set(read(REPO_ROOT, 'plugin.cfg').split('\n').filter((l) => /^\w/.test(l)).map((l) => l.slice(0, l.indexOf(':'))));
  for (const f of [join(DIR, '20-configmap.yaml'), join(DIR, 'gathersrv', 'configmap.yaml')]) {
    for (const b of serverBlocks(corefileOf(read(f)))) for (const d of b.directives) assert.ok(known.has(d.name), `${f}: ${d.name} is in plugin.cfg`);
  }
});

test('the Dockerfile builds with the workspace pnpm and Node 20; the build context leaves local output out', () => {
  const df = dockerfile();
  const pkg = JSON.parse(read(REPO_ROOT, 'package.json')) as { packageManager: string };
  assert.equal(`pnpm@${one(read(REPO_ROOT, 'Dockerfile'), /^ARG PNPM_VERSION=(\S+)$/m, 'ARG PNPM_VERSION')[0]}`, pkg.packageManager);
  assert.equal(one(read(REPO_ROOT, 'Dockerfile'), /^ARG NODE_VERSION=(\S+)$/m, 'ARG NODE_VERSION')[0], '20');
  const froms = df.filter((i) => i.op === 'FROM').map((i) => i.args);
  assert.deepEqual(froms, ['node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS build', 'debian:${DEBIAN_RELEASE}-slim']);
  const runs = df.filter((i) => i.op === 'RUN').map((i) => i.args);
  assert.ok(runs.some((r) => r.startsWith('npx --yes pnpm@${PNPM_VERSION} install --offline --frozen-lockfile') && !r.includes('--prod')), 'full install (builds through `prepare`)');
  assert.ok(runs.some((r) => r.includes('install --offline --frozen-lockfile --prod --ignore-scripts')), 'production dependencies only in the image');
  const ignore = read(REPO_ROOT, '.dockerignore').split('\n').map((l) => l.trim());
  for (const p of ['.git', '**/node_modules', '**/dist', '**/*.tsbuildinfo', 'test/bench/results']) assert.ok(ignore.includes(p), `.dockerignore: ${p}`);
});

test("the ConfigMap's Corefile serves on the real tsdns: forward, cache, health, ready, metrics", async () => {
  const up = await startUpstream((q) => {
    const m = newReply(q);
    m.flags |= 0x0080; // RA
    m.answers.push({ name: q.questions[0]!.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.53' });
    return m;
  });
  ups.push(up);
  const {
    text,
    ports: { dns, health, ready, metrics },
  } = await onLoopback(corefileOf(manifest('ConfigMap')), up.address);
  await serve(text, { port: dns });

  const a = await queryUdp('127.0.0.1', dns, makeQuery('web.example.com.', 'A'));
  assert.equal(a.rcode, 0);
  assert.equal((a.msg.answers[0] as RR).data, '192.0.2.53');
  assert.equal((a.msg.answers[0] as RR).ttl, 30, 'cache 30 caps the TTL');
  const b = await queryTcp('127.0.0.1', dns, makeQuery('web.example.com.', 'A'));
  assert.equal((b.msg.answers[0] as RR).data, '192.0.2.53');
  assert.equal(up.requests.filter((r) => r.msg.questions[0]?.name === 'web.example.com.').length, 1, 'the second query was answered from the cache');

  const h = await httpGet(`127.0.0.1:${health}`, '/health');
  assert.deepEqual([h.status, h.body], [200, 'OK']);
  assert.equal((await httpGet(`127.0.0.1:${ready}`, '/ready')).status, 200);
  const m = (await httpGet(`127.0.0.1:${metrics}`, '/metrics')).body;
  assert.match(m, /coredns_cache_hits_total\{[^}]*type="success"[^}]*\} 1/);
  assert.match(m, new RegExp(`coredns_dns_requests_total\\{server="dns://127\\.0\\.0\\.1:${dns}",zone="\\.",view="",proto="tcp",family="1",type="A"\\} 1`));
});

test('the gathersrv variant answers for the distributed domain from both clusters', async () => {
  const cluster = async (apex: string, ip: string): Promise<Upstream> => {
    const up = await startUpstream((q) => {
      const m = newReply(q);
      const name = q.questions[0]!.name.toLowerCase();
      if (q.questions[0]!.type === 'SRV' && name === `_demo._tcp.demo-service.default.svc.${apex}.`) {
        for (const i of [0, 1]) {
          const target = `demo-service-${i}.default.svc.${apex}.`;
          m.answers.push({ name, type: 'SRV', class: 'IN', ttl: 30, data: { priority: 0, weight: 50, port: 8080, target } satisfies SrvData });
          m.additionals.push({ name: target, type: 'A', class: 'IN', ttl: 30, data: ip });
        }
      } else {
        setRcode(m, 3); // NXDOMAIN
      }
      return m;
    });
    ups.push(up);
    return up;
  };
  const a = await cluster('cluster-a.local', '10.8.1.2');
  const b = await cluster('cluster-b.local', '10.9.1.2');
  const other = await startUpstream((q) => {
    const m = newReply(q);
    m.answers.push({ name: q.questions[0]!.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.54' });
    return m;
  });
  ups.push(other);

  const shipped = await onLoopback(corefileOf(read(DIR, 'gathersrv', 'configmap.yaml')), other.address);
  const { dns, metrics } = shipped.ports;
  let text = swap(shipped.text, /^distributed\.local:53 \{$/m, `distributed.local:${dns} {\n    bind 127.0.0.1`);
  text = swap(text, '10.8.0.1:53', a.address);
  text = swap(text, '10.9.0.1:53', b.address);
  await serve(text, { port: dns });

  const srv = await queryUdp('127.0.0.1', dns, makeQuery(DEMO_SRV, 'SRV'));
  assert.equal(srv.rcode, 0);
  assertDemoSrvAnswer(srv.msg);
  // every other name still goes through the default block
  const web = await queryUdp('127.0.0.1', dns, makeQuery('web.example.com.', 'A'));
  assert.equal((web.msg.answers[0] as RR).data, '192.0.2.54');
  assert.equal(a.requests.filter((r) => r.msg.questions[0]?.name.includes('example.com')).length, 0);
  // both blocks report to the one metrics endpoint
  const m = (await httpGet(`127.0.0.1:${metrics}`, '/metrics')).body;
  assert.match(m, /coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="distributed\.local\.",[^}]*type="SRV"\} 1/);
  assert.match(m, /coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="\.",[^}]*type="A"\} \d+/);
});

test('an edited ConfigMap is picked up by reload, through the symlinks the kubelet swaps', async () => {
  const up = await startUpstream((q) => {
    const m = newReply(q);
    m.answers.push({ name: q.questions[0]!.name, type: 'A', class: 'IN', ttl: 300, data: '192.0.2.55' });
    return m;
  });
  ups.push(up);
  const shipped = await onLoopback(corefileOf(manifest('ConfigMap')), up.address);
  const { dns } = shipped.ports;
  const text = swap(shipped.text, /^(\s+)reload$/m, '$1reload 2s 1s'); // CoreDNS's shortest period, instead of 30s

  // a ConfigMap volume: Corefile -> ..data/Corefile, ..data -> a timestamped directory
  const vol = mkdtempSync(join(tmpdir(), 'tsdns-configmap-'));
  const version = (name: string, corefile: string): void => {
    mkdirSync(join(vol, name));
    writeFileSync(join(vol, name, 'Corefile'), corefile);
    symlinkSync(name, join(vol, '..data_tmp'));
    renameSync(join(vol, '..data_tmp'), join(vol, '..data')); // atomic, as the kubelet does it
  };
  version('..2024_01_01_00_00_00.1', text);
  symlinkSync(join('..data', 'Corefile'), join(vol, 'Corefile'));
  const proc = await serve(null, { conf: 'none', args: ['-conf', join(vol, 'Corefile')], port: dns });
  const ttl = async (name: string): Promise<number> => ((await queryUdp('127.0.0.1', dns, makeQuery(name, 'A'))).msg.answers[0] as RR | undefined)?.ttl ?? -1;
  assert.equal(await ttl('before.example.'), 30);

  version('..2024_01_01_00_01_00.2', swap(text, /^(\s+)cache 30$/m, '$1cache 7'));
  const deadline = Date.now() + 10_000;
  let seen = 30;
  for (let i = 0; seen !== 7 && Date.now() < deadline; i++) {
    await new Promise((r) => setTimeout(r, 250));
    seen = await ttl(`after-${i}.example.`);
  }
  assert.equal(seen, 7, 'the new Corefile (cache 7) serves');
  assert.equal(proc.exited, false);
});
