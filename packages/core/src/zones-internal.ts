/** True for names under in-addr.arpa. or ip6.arpa. */
export function isReverseZone(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith('in-addr.arpa.') || n.endsWith('ip6.arpa.');
}
