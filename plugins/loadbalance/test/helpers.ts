import { encodeMessage, newReply, RCODE, setRcode, type Controller, type DnsRecord, type Msg, type PluginDefinition, type RR } from '@tsdns/core';
import type { TestServer } from '@tsdns/testing';

export function rr(name: string, type: string, data: RR['data'], ttl = 300): RR {
  return { name, type, class: 'IN', ttl, data };
}

export function a(name: string, ip: string): RR {
  return rr(name, ip.includes(':') ? 'AAAA' : 'A', ip);
}

/** How each record prints in assertions: `A 10.0.0.1`, `CNAME x.`, `MX 10 mx.`, `OPT`. */
export function show(r: DnsRecord): string {
  if (r.type === 'OPT') return 'OPT';
  const d = (r as RR).data;
  if (r.type === 'MX') {
    const mx = d as { preference: number; exchange: string };
    return `MX ${mx.preference} ${mx.exchange}`;
  }
  if (Array.isArray(d)) return `${r.type} ${d.map(String).join(' ')}`;
  return `${r.type} ${String(d)}`;
}

export interface FixedAnswer {
  answers?: DnsRecord[];
  authorities?: DnsRecord[];
  additionals?: DnsRecord[];
  rcode?: number;
}

/**
 * A test plugin `fixed` answering every query with the same sections (the
 * same arrays every time, as a cache or zone would), written with writeMsg,
 * or as raw bytes when the block says `fixed raw`.
 */
export function fixedPlugin(answer: (q: Msg) => FixedAnswer): PluginDefinition {
  return {
    name: 'fixed',
    setup(c: Controller): void {
      c.next();
      const raw = c.remainingArgs()[0] === 'raw';
      c.addPlugin(() => ({
        name: 'fixed',
        ServeDNS(_ctx, w, r): number {
          const f = answer(r);
          const m = newReply(r);
          m.answers = f.answers ?? [];
          m.authorities = f.authorities ?? [];
          m.additionals = f.additionals ?? [];
          setRcode(m, f.rcode ?? RCODE.NOERROR);
          if (raw) w.write(encodeMessage(m));
          else w.writeMsg(m);
          return f.rcode ?? RCODE.NOERROR;
        },
      }));
    },
  };
}

/** Runs `n` queries (in parallel batches) and returns each answer section printed. */
export async function sample(srv: TestServer, name: string, type: string, n: number, section: 'answers' | 'authorities' | 'additionals' = 'answers', tcp = false): Promise<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () => srv.query(name, type, tcp ? { tcp: true } : {})),
    );
    for (const r of batch) out.push(r.msg[section].map(show));
  }
  return out;
}
