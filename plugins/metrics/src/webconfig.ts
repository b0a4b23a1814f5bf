/**
 * The Prometheus exporter-toolkit web configuration file (`prometheus { tls
 * FILE }`): TLS server settings for the /metrics listener.
 *
 * Supported (same keys as exporter-toolkit):
 *
 *     tls_server_config:
 *       cert_file: server.crt        # or cert: <PEM text>
 *       key_file: server.key         # or key: <PEM text>
 *       client_auth_type: RequireAndVerifyClientCert
 *       client_ca_file: ca.crt
 *       min_version: TLS12
 *       max_version: TLS13
 *     http_server_config:
 *       headers:
 *         X-Frame-Options: deny
 *
 * Relative file names are relative to the configuration file's directory.
 * `basic_auth_users` needs bcrypt, which tsdns does not ship: a file that sets
 * it is rejected rather than served without authentication.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { SecureVersion, TlsOptions } from 'node:tls';

export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(s: string): string {
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      continue;
    }
    if (c === '"' || c === "'") q = c;
    else if (c === '#' && (i === 0 || s[i - 1] === ' ' || s[i - 1] === '\t')) return s.slice(0, i);
  }
  return s;
}

function scalar(raw: string, no: number): YamlValue {
  const s = raw.trim();
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new Error(`yaml: line ${no}: found unexpected end of stream`);
    return JSON.parse(s) as string;
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new Error(`yaml: line ${no}: found unexpected end of stream`);
    return s.slice(1, -1).replaceAll("''", "'");
  }
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) throw new Error(`yaml: line ${no}: did not find expected ',' or ']'`);
    const inner = s.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((p) => scalar(p, no));
  }
  if (s === '{}') return {};
  if (s === '~' || s === 'null') return '';
  return s;
}

/** Parses the YAML subset web configuration files use: block mappings, block and flow sequences, scalars. */
export function parseYaml(text: string): YamlValue {
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (/^\s*---\s*$/.test(l)) return;
    if (l.includes('\t') && /^\s*\t/.test(l)) throw new Error(`yaml: line ${i + 1}: found character that cannot start any token`);
    const t = stripComment(l).replace(/\s+$/, '');
    if (t.trim() === '') return;
    lines.push({ indent: t.length - t.trimStart().length, text: t.trim(), no: i + 1 });
  });
  let pos = 0;
  const block = (indent: number): YamlValue => {
    const first = lines[pos];
    if (!first || first.indent < indent) return '';
    if (first.text.startsWith('- ') || first.text === '-') {
      const out: YamlValue[] = [];
      while (pos < lines.length && lines[pos]!.indent === first.indent && (lines[pos]!.text.startsWith('- ') || lines[pos]!.text === '-')) {
        const l = lines[pos]!;
        pos++;
        const rest = l.text.slice(1).trim();
        if (rest === '') out.push(block(first.indent + 1));
        else out.push(scalar(rest, l.no));
      }
      return out;
    }
    const out: { [key: string]: YamlValue } = {};
    while (pos < lines.length && lines[pos]!.indent === first.indent) {
      const l = lines[pos]!;
      const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^:]+?)\s*:(?:\s+(.*))?$/.exec(l.text);
      if (!m) throw new Error(`yaml: line ${l.no}: could not find expected ':'`);
      const key = String(scalar(m[1]!, l.no));
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new Error(`yaml: unmarshal errors:\n  line ${l.no}: mapping key "${key}" already defined`);
      pos++;
      if (m[2] !== undefined && m[2].trim() !== '') {
        const v = m[2].trim();
        if (v === '|' || v === '>' || v === '|-' || v === '>-') {
          // block scalar: the following more-indented lines
          const parts: string[] = [];
          let ind = -1;
          while (pos < lines.length && lines[pos]!.indent > l.indent) {
            const bl = lines[pos]!;
            if (ind < 0) ind = bl.indent;
            parts.push(' '.repeat(Math.max(0, bl.indent - ind)) + bl.text);
            pos++;
          }
          out[key] = v.startsWith('|') ? parts.join('\n') + (v === '|' ? '\n' : '') : parts.join(' ');
        } else {
          out[key] = scalar(v, l.no);
        }
      } else if (pos < lines.length && lines[pos]!.indent > l.indent) {
        out[key] = block(lines[pos]!.indent);
      } else if (pos < lines.length && lines[pos]!.indent === l.indent && lines[pos]!.text.startsWith('- ')) {
        out[key] = block(l.indent);
      } else {
        out[key] = '';
      }
    }
    if (pos < lines.length && lines[pos]!.indent > first.indent) throw new Error(`yaml: line ${lines[pos]!.no}: mapping values are not allowed in this context`);
    return out;
  };
  if (lines.length === 0) return {};
  const v = block(lines[0]!.indent);
  if (pos < lines.length) throw new Error(`yaml: line ${lines[pos]!.no}: did not find expected key`);
  return v;
}

/** What the /metrics listener needs from a web configuration file. */
export interface WebConfig {
  /** TLS options, or undefined to serve plain HTTP. */
  tls: TlsOptions | undefined;
  /** Extra response headers (`http_server_config.headers`). */
  headers: Record<string, string>;
  /** `RequireAnyClientCert`: a client certificate is needed but not verified. */
  requireAnyCert: boolean;
}

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

const CLIENT_AUTH = new Set(['', 'NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']);

function isMap(v: YamlValue | undefined): v is { [key: string]: YamlValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: YamlValue | undefined, field: string): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new Error(`yaml: unmarshal errors:\n  field ${field}: cannot unmarshal into string`);
  return v;
}

function checkKeys(m: { [key: string]: YamlValue }, allowed: readonly string[], type: string): void {
  for (const k of Object.keys(m)) if (!allowed.includes(k)) throw new Error(`yaml: unmarshal errors:\n  field ${k} not found in type ${type}`);
}

/**
 * Reads and validates a web configuration file. Throws with a message
 * close to exporter-toolkit's for unreadable files, unknown keys, missing
 * certificate or key, and unsupported settings.
 */
export function loadWebConfig(path: string): WebConfig {
  const text = readFileSync(path, 'utf8');
  const doc = parseYaml(text);
  const root = isMap(doc) ? doc : {};
  checkKeys(root, ['tls_server_config', 'http_server_config', 'basic_auth_users'], 'web.Config');
  const users = root['basic_auth_users'];
  if (isMap(users) && Object.keys(users).length > 0) {
    throw new Error('basic_auth_users is not supported by tsdns (bcrypt is not available); remove it or put an authenticating proxy in front');
  }
  const headers: Record<string, string> = {};
  const hsc = root['http_server_config'];
  if (isMap(hsc)) {
    checkKeys(hsc, ['http2', 'headers'], 'web.HTTPConfig');
    const h = hsc['headers'];
    if (isMap(h)) for (const [k, v] of Object.entries(h)) headers[k] = str(v, k);
  }
  const t = root['tls_server_config'];
  if (!isMap(t)) return { tls: undefined, headers, requireAnyCert: false };
  checkKeys(
    t,
    [
      'cert', 'cert_file', 'key', 'key_file', 'client_auth_type', 'client_ca_file', 'client_ca', 'cipher_suites', 'curve_preferences',
      'min_version', 'max_version', 'prefer_server_cipher_suites', 'client_allowed_sans',
    ],
    'web.TLSConfig',
  );
  const dir = dirname(path);
  const file = (f: string): string => (isAbsolute(f) ? f : join(dir, f));
  const certFile = str(t['cert_file'], 'cert_file');
  const keyFile = str(t['key_file'], 'key_file');
  const certText = str(t['cert'], 'cert');
  const keyText = str(t['key'], 'key');
  const caFile = str(t['client_ca_file'], 'client_ca_file');
  const caText = str(t['client_ca'], 'client_ca');
  const auth = str(t['client_auth_type'], 'client_auth_type');
  if (certFile === '' && keyFile === '' && certText === '' && keyText === '' && caFile === '' && caText === '' && auth === '') {
    return { tls: undefined, headers, requireAnyCert: false };
  }
  if (certFile === '' && certText === '') throw new Error('missing one of cert or cert_file');
  if (keyFile === '' && keyText === '') throw new Error('missing one of key or key_file');
  if (!CLIENT_AUTH.has(auth)) throw new Error(`invalid ClientAuth: ${auth}`);
  if ((caFile !== '' || caText !== '') && (auth === '' || auth === 'NoClientCert')) {
    throw new Error('Client CA\'s have been configured without a Client Auth Policy');
  }
  const tls: TlsOptions = {
    cert: certText !== '' ? certText : readFileSync(file(certFile)),
    key: keyText !== '' ? keyText : readFileSync(file(keyFile)),
  };
  if (caFile !== '' || caText !== '') tls.ca = caText !== '' ? caText : readFileSync(file(caFile));
  switch (auth) {
    case 'RequestClientCert':
    case 'RequireAnyClientCert':
    case 'VerifyClientCertIfGiven':
      tls.requestCert = true;
      tls.rejectUnauthorized = auth === 'VerifyClientCertIfGiven';
      break;
    case 'RequireAndVerifyClientCert':
      tls.requestCert = true;
      tls.rejectUnauthorized = true;
      break;
    default:
      break;
  }
  const minV = str(t['min_version'], 'min_version');
  const maxV = str(t['max_version'], 'max_version');
  if (minV !== '') {
    const v = TLS_VERSIONS[minV];
    if (!v) throw new Error(`unknown TLS version: ${minV}`);
    tls.minVersion = v;
  } else {
    tls.minVersion = 'TLSv1.2';
  }
  if (maxV !== '') {
    const v = TLS_VERSIONS[maxV];
    if (!v) throw new Error(`unknown TLS version: ${maxV}`);
    tls.maxVersion = v;
  }
  return { tls, headers, requireAnyCert: auth === 'RequireAnyClientCert' };
}
