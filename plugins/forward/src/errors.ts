/**
 * Upstream errors with the texts CoreDNS (Go's net package and miekg/dns)
 * produces, so that what the errors plugin logs reads the same.
 */
import type { AbortState } from '@tsdns/core';
import { errnoText, isIP } from './hostport.js';

export type UpstreamErrorKind = 'io' | 'cached-closed' | 'invalid-request' | 'aborted' | 'stopped';

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  constructor(message: string, kind: UpstreamErrorKind = 'io') {
    super(message);
    this.name = 'UpstreamError';
    this.kind = kind;
  }
}

/** A reused TCP connection turned out to be closed by the peer: try again. */
export const ERR_CACHED_CLOSED = 'cached connection was closed by peer';
/** A query forward cannot pack (`proxy: invalid request: ...`): FORMERR. */
export const ERR_INVALID_REQUEST = 'proxy: invalid request';
/** Dialing after shutdown. */
export const ERR_TRANSPORT_STOPPED = 'proxy: transport stopped';
/** Every upstream is down and failfast is set, or no attempt could be made. */
export const ERR_NO_HEALTHY = 'no healthy proxies';

/** Go's text for a syscall error (`read: connection refused`), or Node's message. */
export function syscallText(e: NodeJS.ErrnoException, syscall: string): string {
  const t = errnoText(e.code);
  return t !== undefined ? `${syscall}: ${t}` : e.message;
}

/** `read udp 127.0.0.1:5353->127.0.0.1:53: i/o timeout` (net.OpError). */
export function opError(op: 'read' | 'write' | 'dial', net: 'udp' | 'tcp', local: string, remote: string, why: string): UpstreamError {
  const src = local !== '' ? `${local}->` : '';
  return new UpstreamError(`${op} ${net} ${src}${remote}: ${why}`);
}

/** The error a cancelled context gives (`context canceled` / `context deadline exceeded`). */
export function abortError(signal: AbortState): UpstreamError {
  const r = signal.reason as { name?: unknown } | undefined;
  const text = r !== undefined && r !== null && r.name === 'TimeoutError' ? 'context deadline exceeded' : 'context canceled';
  return new UpstreamError(text, 'aborted');
}

const TLS_VERIFY: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
};

/** Go's text for a TLS handshake failure where there is one, else Node's. */
export function tlsErrorText(e: NodeJS.ErrnoException): string {
  const code = e.code ?? '';
  const v = TLS_VERIFY[code];
  if (v !== undefined) return `tls: failed to verify certificate: ${v}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: ${hostnameError(e)}`;
  return `tls: ${e.message}`;
}

/** Go's x509.HostnameError text for a certificate that does not name the host. */
function hostnameError(e: NodeJS.ErrnoException): string {
  const x = e as NodeJS.ErrnoException & { host?: unknown; cert?: { subjectaltname?: unknown } };
  const host = typeof x.host === 'string' ? x.host : '';
  const san = typeof x.cert?.subjectaltname === 'string' ? x.cert.subjectaltname.split(/,\s*/) : [];
  if (isIP(host)) {
    const ips = san.filter((n) => n.startsWith('IP Address:')).map((n) => n.slice(11));
    if (ips.length === 0) return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    return `x509: certificate is valid for ${ips.join(', ')}, not ${host}`;
  }
  const names = san.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
  if (names.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${names.join(', ')}, not ${host}`;
}
