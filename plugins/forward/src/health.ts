/**
 * In-band health checking (CoreDNS's proxy health checker and pkg/up Probe).
 * A failed exchange kicks the probe; it then checks the upstream right away
 * and every interval until a check succeeds. A check is `<domain> IN NS`
 * (RD unless `no_rec`) with a 1 s timeout over the upstream's transport; any
 * reply at all is healthy and resets the fail count, an I/O error increments
 * it and `coredns_proxy_healthcheck_failures_total`.
 */
import { decodeMessage, encodeMessage, RECURSION_DESIRED, signalSource, type AbortSource, type Msg } from '@tsdns/core';
import { StreamConn, UdpConn, type TlsSettings } from './conn.js';
import type { DohClient } from './doh.js';
import { randomId } from './ids.js';
import { healthcheckFailureCount, type CounterChild } from './metrics.js';

/** Health-check read/write timeout. */
export const HC_TIMEOUT_MS = 1000;
/** miekg's default dial timeout for the health check's own connection. */
const HC_DIAL_TIMEOUT_MS = 2000;

export type HealthTransport = 'udp' | 'tcp' | 'tcp-tls' | 'https';

/** The upstream state a health checker reads and updates. */
export interface Checked {
  readonly addr: string;
  readonly host: string;
  readonly port: number;
  readonly proxyName: string;
  fails: number;
}

export class HealthChecker {
  transport: HealthTransport;
  recursionDesired = true;
  domain = '.';
  readTimeoutMs = HC_TIMEOUT_MS;
  tls: TlsSettings | undefined;
  localAddress: string | undefined;
  doh: DohClient | undefined;
  private failures: CounterChild | undefined;

  constructor(transport: HealthTransport) {
    this.transport = transport;
  }

  /** force_tcp: plain DNS checks go over TCP (tls:// and https:// are unaffected). */
  setTcpTransport(): void {
    if (this.transport === 'udp') this.transport = 'tcp';
  }

  private ping(): Msg {
    return {
      id: randomId(),
      type: 'query',
      flags: this.recursionDesired ? RECURSION_DESIRED : 0,
      questions: [{ name: this.domain, type: 'NS', class: 'IN' }],
      answers: [],
      authorities: [],
      additionals: [],
    };
  }

  /** One check; updates the fail count. Resolves true when healthy. */
  async check(p: Checked, signal?: AbortSource): Promise<boolean> {
    try {
      await this.send(p, signal);
    } catch {
      if (signal?.aborted) return false;
      (this.failures ??= healthcheckFailureCount.labels(p.proxyName, p.addr)).inc();
      if (p.fails < 0xffffffff) p.fails++;
      return false;
    }
    p.fails = 0;
    return true;
  }

  /** Sends the probe; throws on I/O errors (any reply header counts as healthy). */
  async send(p: Checked, signal?: AbortSource): Promise<void> {
    const m = this.ping();
    if (this.transport === 'https') {
      m.id = 0;
      const body = await this.doh!.exchange(encodeMessage(m), 'POST', this.readTimeoutMs, signal);
      decodeMessage(body);
      return;
    }
    if (this.transport === 'udp') {
      const c = await UdpConn.open(p.host, p.port, p.addr, this.localAddress);
      try {
        await c.exchange(encodeMessage(m), m.id, 512, this.readTimeoutMs, signal, 'probe');
      } finally {
        c.close();
      }
      return;
    }
    const c = StreamConn.dial(p.host, p.port, p.addr, this.localAddress, this.transport === 'tcp-tls' ? this.tls : undefined, HC_DIAL_TIMEOUT_MS, noop);
    try {
      await c.exchange(encodeMessage(m, false, true), m.id, this.readTimeoutMs, signal, 'probe');
    } finally {
      c.close();
    }
  }
}

function noop(): void {
  // dial times of health checks do not tune the query dial timeout
}

/**
 * Runs a check until it succeeds, at most one loop at a time (CoreDNS's
 * up.Probe). The waits between checks use unref'd timers.
 */
export class Probe {
  private state: 'idle' | 'active' | 'stop' = 'idle';
  interval: number;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(intervalMs: number) {
    this.interval = intervalMs;
  }

  get active(): boolean {
    return this.state === 'active';
  }

  /** Starts checking with `f` unless a check loop is already running (or the probe stopped). */
  do(f: (signal: AbortSource) => Promise<boolean>): void {
    if (this.state !== 'idle') return;
    this.state = 'active';
    void this.run(f);
  }

  private async run(f: (signal: AbortSource) => Promise<boolean>): Promise<void> {
    for (;;) {
      let ok = false;
      try {
        ok = await f(signalSource(this.abort.signal));
      } catch {
        ok = false;
      }
      if ((this.state as string) === 'stop') return;
      if (ok) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.interval);
        this.timer.unref();
      });
      this.timer = undefined;
      this.wake = undefined;
      if ((this.state as string) === 'stop') return;
    }
    this.state = 'idle';
  }

  /** Stops checking: no new loop starts, a running one ends (its check is aborted). */
  stop(): void {
    this.state = 'stop';
    this.abort.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
  }
}
