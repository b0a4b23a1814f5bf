/**
 * Test helpers: HTTP scraping, a validating parser of the Prometheus text
 * format, Corefile -> reload input, and small fake plugins.
 */
import { corefileInput } from '@tsdns/testing';
import {
  newReply,
  type Controller,
  type Handler,
  type InstanceOptions,
  type PluginDefinition,
} from '@tsdns/core';

export { httpGet as get, httpRefused as refused, type HttpResult } from '@tsdns/testing';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN' || s === 'Nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad sample value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels in ${line}`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name ${JSON.stringify(name)} in ${line}`);
    if (s[eq + 1] !== '"') throw new Error(`label value not quoted in ${line}`);
    let j = eq + 2;
    let v = '';
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === '\\') {
        const n = s[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\' || n === '"') v += n;
        else throw new Error(`bad escape in ${line}`);
      } else v += s[j];
    }
    if (j >= s.length) throw new Error(`unterminated label value in ${line}`);
    if (name in out) throw new Error(`duplicate label ${name} in ${line}`);
    out[name] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`bad label separator in ${line}`);
  }
  return out;
}

/**
 * Parses the Prometheus text format strictly enough to catch what promtool
 * would reject (its lint rules included): HELP/TYPE before samples and once per family, sample names
 * matching their family's type, valid names/labels/values, no duplicate
 * series, histogram buckets with ascending `le`, cumulative counts and a
 * `+Inf` bucket equal to `_count`.
 */
export function parseExposition(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const fams = new Map<string, Family>();
  const seen = new Set<string>();
  let cur: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      const name = sp < 0 ? rest : rest.slice(0, sp);
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      if (fams.has(name)) throw new Error(`second HELP for ${name}`);
      cur = { name, help: sp < 0 ? '' : rest.slice(sp + 1), type: 'untyped', samples: [] };
      fams.set(name, cur);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!cur || cur.name !== name) throw new Error(`TYPE for ${name} without its HELP first`);
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!)) throw new Error(`bad type ${type}`);
      if (cur.samples.length > 0) throw new Error(`TYPE after samples for ${name}`);
      cur.type = type!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const name = m[1]!;
    const labels = m[3] !== undefined ? parseLabels(m[3], line) : {};
    const value = parseValue(m[4]!);
    if (!cur) throw new Error(`sample ${name} before any HELP/TYPE`);
    const base = cur.name;
    const okNames =
      cur.type === 'histogram'
        ? [`${base}_bucket`, `${base}_sum`, `${base}_count`]
        : cur.type === 'summary'
          ? [base, `${base}_sum`, `${base}_count`]
          : [base];
    if (!okNames.includes(name)) throw new Error(`sample ${name} does not belong to family ${base} (${cur.type})`);
    if (cur.type === 'counter' && !(value >= 0)) throw new Error(`negative counter ${line}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new Error(`duplicate series ${line}`);
    seen.add(key);
    cur.samples.push({ name, labels, value });
  }
  // promtool's lint rules (`promtool check metrics`)
  for (const f of fams.values()) {
    if (f.help === '') throw new Error(`${f.name}: no help text`);
    if (/[A-Z]/.test(f.name)) throw new Error(`${f.name}: metric names should be written in 'snake_case' not 'camelCase'`);
    if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`${f.name}: counter metrics should have "_total" suffix`);
    if (f.type !== 'counter' && f.name.endsWith('_total')) throw new Error(`${f.name}: non-counter metrics should not have "_total" suffix`);
    if (/_(milliseconds|microseconds|nanoseconds|minutes|hours|days|kilobytes|megabytes|gigabytes)(_|$)/.test(f.name)) {
      throw new Error(`${f.name}: use base unit`);
    }
  }
  for (const f of fams.values()) {
    if (f.type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(s);
      if (s.name.endsWith('_bucket') && le === undefined) throw new Error(`bucket without le in ${f.name}`);
    }
    for (const g of groups.values()) {
      const buckets = g.filter((s) => s.name.endsWith('_bucket'));
      const count = g.find((s) => s.name.endsWith('_count'));
      const sum = g.find((s) => s.name.endsWith('_sum'));
      if (!count || !sum || buckets.length === 0) throw new Error(`incomplete histogram series in ${f.name}`);
      let prevLe = -Infinity;
      let prevV = 0;
      for (const b of buckets) {
        const le = parseValue(b.labels['le']!);
        if (!(le > prevLe)) throw new Error(`le not ascending in ${f.name}`);
        if (b.value < prevV) throw new Error(`bucket counts not cumulative in ${f.name}`);
        prevLe = le;
        prevV = b.value;
      }
      if (prevLe !== Infinity) throw new Error(`no +Inf bucket in ${f.name}`);
      if (prevV !== count.value) throw new Error(`+Inf bucket != _count in ${f.name}`);
    }
  }
  return fams;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const fams = parseExposition(text);
  const famName = name.replace(/_(bucket|sum|count)$/, '');
  const f = fams.get(name) ?? fams.get(famName);
  if (!f) return undefined;
  const hits = f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}

/** All samples of `name` whose labels include `labels`. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  const fams = parseExposition(text);
  const out: Sample[] = [];
  for (const f of fams.values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

/**
 * What `Instance.restart` needs for a Corefile text, listening on 127.0.0.1
 * as `serveCorefile` does.
 */
export function reloadInput(text: string, plugins: PluginDefinition[]): () => Promise<InstanceOptions> {
  return () => Promise.resolve(corefileInput(text, { plugins }));
}

/** A directive adding one handler made by `make(next)`. */
export function fakePlugin(name: string, make: (next: Handler | undefined) => Handler): PluginDefinition {
  return {
    name,
    setup(c: Controller): void {
      c.next();
      c.addPlugin(make);
    },
  };
}

/** A handler that answers NOERROR itself (with rcode `rcode` in the header). */
export function answering(name: string, rcode = 0): PluginDefinition {
  return fakePlugin(name, () => ({
    name,
    ServeDNS(_ctx, w, r): number {
      const m = newReply(r);
      m.flags = (m.flags & ~0xf) | rcode;
      w.writeMsg(m);
      return rcode;
    },
  }));
}
