/** Looks an environment variable up; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** Thrown when substitution does not terminate (values that refer to themselves). */
export class EnvExpansionError extends Error {}

/** Cap on replacement rounds per token; Go would loop forever or exhaust memory. */
const MAX_ROUNDS = 10000;
const MAX_LENGTH = 1 << 24;

/**
 * caddyfile replaceEnvVars: substitutes `{%NAME%}` references, then `{$NAME}`
 * references, as plain text inside `s`. Unset variables become ''. Malformed
 * references stay as they are; an empty name (`{$}`, `{%%}`) stops that pass.
 * As in Go, a substituted value is scanned again for references.
 */
export function replaceEnvVars(s: string, lookup: EnvLookup): string {
  s = replaceEnvReferences(s, '{%', '%}', lookup);
  return replaceEnvReferences(s, '{$', '}', lookup);
}

function replaceEnvReferences(s: string, refStart: string, refEnd: string, lookup: EnvLookup): string {
  let index = s.indexOf(refStart);
  let rounds = 0;
  while (index !== -1) {
    const endIndex = s.indexOf(refEnd, index);
    if (endIndex === -1) break;
    if (endIndex <= index + refStart.length) return s;
    const ref = s.slice(index, endIndex + refEnd.length);
    const value = lookup(ref.slice(refStart.length, ref.length - refEnd.length)) ?? '';
    const next = s.split(ref).join(value);
    if (next === s || ++rounds > MAX_ROUNDS || next.length > MAX_LENGTH) {
      throw new EnvExpansionError(`environment variable substitution does not terminate at ${ref}`);
    }
    s = next;
    index = s.indexOf(refStart);
  }
  return s;
}

/** An EnvLookup over a plain record such as process.env. */
export function envLookup(env: Readonly<Record<string, string | undefined>>): EnvLookup {
  return (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined);
}
