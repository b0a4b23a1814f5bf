/**
 * The zone's names in DNSSEC canonical order (CoreDNS plugin/file/tree):
 * one element per owner name holding its RRsets. Built once per zone load;
 * lookups are a hash lookup, ordered walks a binary search.
 */
import { isSubDomain, lowerName, typeCode, type RR } from '@tsdns/core';
import { compareTreeLabels, treeLabels } from './names.js';

export class Elem {
  /** Owner name as first inserted. */
  readonly name: string;
  readonly labels: readonly string[];
  private readonly m = new Map<number, RR[]>();

  constructor(name: string, labels: readonly string[]) {
    this.name = name;
    this.labels = labels;
  }

  /** The RRs of a type (undefined when there are none). */
  type(qtype: number): readonly RR[] | undefined {
    return this.m.get(qtype);
  }

  /** Copies of the RRs of a type with the owner set to `qname` (wildcard synthesis). */
  typeForWildcard(qtype: number, qname: string): RR[] | undefined {
    const rrs = this.m.get(qtype);
    if (rrs === undefined) return undefined;
    return rrs.map((r) => ({ ...r, name: qname }));
  }

  /** Every RR, grouped by type. */
  all(): RR[] {
    const out: RR[] = [];
    for (const rrs of this.m.values()) out.push(...rrs);
    return out;
  }

  types(): number[] {
    return [...this.m.keys()];
  }

  insert(rr: RR, t: number): void {
    const rrs = this.m.get(t);
    if (rrs) rrs.push(rr);
    else this.m.set(t, [rr]);
  }
}

/** Binary search of sorted elements: the first index whose labels sort after `k` (with `orEqual`, at or after). */
function searchFrom(s: readonly Elem[], k: readonly string[], orEqual: boolean): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareTreeLabels(s[mid]!.labels, k);
    if (orEqual ? c < 0 : c <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The lookup key of a name: equal for two names exactly when their tree labels
 * are equal. A label of plain text (ASCII, no backslash, one dot, at its end)
 * is its own spelling, so a name made only of those is keyed by the labels
 * written back in order - for a plain name, the lower-cased name itself, with
 * no labels to split; any other name by its labels joined with a separator no
 * plain key contains.
 */
function keyOf(labels: readonly string[]): string {
  let key = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    const l = labels[i]!;
    if (!plainLabel(l)) return '\u0101' + labels.join('\u0100');
    key += l;
  }
  return key;
}

function plainLabel(l: string): boolean {
  const last = l.length - 1;
  if (last < 0 || l.charCodeAt(last) !== 0x2e) return false;
  for (let i = 0; i < last; i++) {
    const c = l.charCodeAt(i);
    if (c > 0x7f || c === 0x5c || c === 0x2e) return false;
  }
  return true;
}

/** keyOf(treeLabels(name)), without splitting a plain name into labels. */
function keyOfName(name: string): string {
  const n = name.length;
  if (n < 2 || name.charCodeAt(n - 1) !== 0x2e) return keyOf(treeLabels(name));
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f || c === 0x5c) return keyOf(treeLabels(name));
  }
  return lowerName(name);
}

/** The tree label of a wildcard's first label (`*.` as treeLabels writes it). */
const WILDCARD_LABEL = '*.';

export class Tree {
  private readonly byKey = new Map<string, Elem>();
  private sorted: Elem[] = [];
  private dirty = false;
  private wildcardLabels = false;

  /**
   * False when no name in the tree has a `*` label: then no wildcard name is
   * in it, and none has a name below it, so lookups need not look for one.
   */
  get hasWildcards(): boolean {
    return this.wildcardLabels;
  }

  get count(): number {
    return this.byKey.size;
  }

  insert(rr: RR): void {
    const labels = treeLabels(rr.name);
    const key = keyOf(labels);
    let e = this.byKey.get(key);
    if (!e) {
      e = new Elem(rr.name, labels);
      if (labels.includes(WILDCARD_LABEL)) this.wildcardLabels = true;
      this.byKey.set(key, e);
      this.sorted.push(e);
      this.dirty = true;
    }
    e.insert(rr, typeCode(rr.type) ?? 0);
  }

  /** The element of a name (case-insensitive), or undefined. */
  search(name: string): Elem | undefined {
    return this.byKey.get(keyOfName(name));
  }

  private order(): Elem[] {
    if (this.dirty) {
      this.sorted.sort((a, b) => compareTreeLabels(a.labels, b.labels));
      this.dirty = false;
    }
    return this.sorted;
  }

  /** The smallest element equal to or greater than `name`. */
  next(name: string): Elem | undefined {
    const s = this.order();
    return s[searchFrom(s, treeLabels(name), true)];
  }

  /** The greatest element equal to or less than `name`. */
  prev(name: string): Elem | undefined {
    const s = this.order();
    const i = searchFrom(s, treeLabels(name), false);
    return i > 0 ? s[i - 1] : undefined;
  }

  /** Elements in canonical order. */
  elems(): readonly Elem[] {
    return this.order();
  }

  /** True when the tree has a name strictly below `name` (CoreDNS hasDescendant). */
  hasDescendant(name: string): boolean {
    const x = this.next(name);
    return x !== undefined && compareTreeLabels(x.labels, treeLabels(name)) !== 0 && isSubDomain(name, x.name);
  }

  /** A and AAAA records for the in-bailiwick targets of NS records (tree.Glue). */
  glue(nsrrs: readonly RR[]): RR[] {
    const out: RR[] = [];
    for (const rr of nsrrs) {
      if (rr.type !== 'NS') continue;
      const target = rr.data as string;
      if (!isSubDomain(rr.name, target)) continue;
      const e = this.search(target);
      if (!e) continue;
      const a = e.type(1);
      if (a) out.push(...a);
      const aaaa = e.type(28);
      if (aaaa) out.push(...aaaa);
    }
    return out;
  }
}
