/**
 * The `-workers N|auto` value: how many processes serve. `auto` is one per
 * CPU this process may use, bounded by the cgroup CPU limit (what Go's
 * automaxprocs gives CoreDNS in a container: a pod limited to 2 CPUs runs 2
 * workers even on a 64-core node).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Upper bound of -workers: a typo must not fork thousands of processes. */
export const MAX_WORKERS = 256;

/** Why a -workers value is invalid (Go's flag.Value.Set error text), or undefined when it is valid. */
export function checkWorkers(v: string): string | undefined {
  if (v === 'auto') return undefined;
  if (!/^[0-9]+$/.test(v)) return 'parse error: want a number of processes or auto';
  const n = Number(v);
  if (n < 1) return 'must be at least 1';
  if (n > MAX_WORKERS) return `must be at most ${MAX_WORKERS}`;
  return undefined;
}

/**
 * CPUs allowed by the cgroup CPU quota, rounded down (at least 1), or
 * undefined without a quota. cgroup v2 `cpu.max` ("max 100000" or
 * "200000 100000"), else cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
 */
export function cgroupCpuLimit(read: (path: string) => string | undefined = readOptional): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    if (quota === undefined || quota === 'max') return undefined;
    return quotaCpus(Number(quota), Number(period ?? '100000'));
  }
  const q = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us');
  const p = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us') ?? read('/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us');
  if (q === undefined || p === undefined) return undefined;
  return quotaCpus(Number(q.trim()), Number(p.trim()));
}

function quotaCpus(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.floor(quota / period));
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The number of processes for a valid -workers value. */
export function resolveWorkers(v: string, cpus: () => number = availableParallelism, limit: () => number | undefined = cgroupCpuLimit): number {
  if (v !== 'auto') return Number(v);
  const n = cpus();
  const l = limit();
  return Math.max(1, Math.min(MAX_WORKERS, l === undefined ? n : Math.min(n, l)));
}
