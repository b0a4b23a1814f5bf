/**
 * Upstream selection policies: the order in which a query tries the upstreams.
 */

export interface Policy {
  readonly name: 'random' | 'round_robin' | 'sequential';
  /** The upstreams in the order to try them (may be the input array itself). */
  list<T>(p: readonly T[]): readonly T[];
}

/** A random permutation; with two upstreams a coin flip decides whether to swap. */
export class RandomPolicy implements Policy {
  readonly name = 'random' as const;
  list<T>(p: readonly T[]): readonly T[] {
    switch (p.length) {
      case 0:
      case 1:
        return p;
      case 2:
        return Math.random() < 0.5 ? [p[1]!, p[0]!] : p;
      default: {
        const out = p.slice();
        for (let i = out.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          const t = out[i]!;
          out[i] = out[j]!;
          out[j] = t;
        }
        return out;
      }
    }
  }
}

/** Rotates a shared counter: the first upstream is the next one each time, the rest keep their order. */
export class RoundRobinPolicy implements Policy {
  readonly name = 'round_robin' as const;
  private robin = 0;
  list<T>(p: readonly T[]): readonly T[] {
    if (p.length === 0) return p;
    this.robin = (this.robin + 1) >>> 0;
    const i = this.robin % p.length;
    const out: T[] = [p[i]!];
    for (let k = 0; k < p.length; k++) if (k !== i) out.push(p[k]!);
    return out;
  }
}

/** Always the configured order. */
export class SequentialPolicy implements Policy {
  readonly name = 'sequential' as const;
  list<T>(p: readonly T[]): readonly T[] {
    return p;
  }
}

/** A policy by its Corefile name, or undefined. */
export function policyByName(name: string): Policy | undefined {
  switch (name) {
    case 'random':
      return new RandomPolicy();
    case 'round_robin':
      return new RoundRobinPolicy();
    case 'sequential':
      return new SequentialPolicy();
    default:
      return undefined;
  }
}
