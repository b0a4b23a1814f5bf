/**
 * A DNS message as the hex dump CoreDNS's debug package logs (`debug.Hexdump`),
 * which `text2pcap -i 17 -u 53,53` turns back into packets:
 *
 *     debug: 000000 00 0a 01 00 00 01 00 00 00 00 00 01 07 65 78 61
 *     debug: 000010 6d 70 6c 65 05 6c 6f 63 61 6c 00 00 01 00 01 00
 *     debug: 000020 00 29 10 00 00 00 80 00 00 00
 *     debug: 00002a
 */
export function hexdump(wire: Uint8Array): string {
  let out = '';
  for (let i = 0; i < wire.length; i++) {
    if (i % 16 === 0) out += `${i === 0 ? '' : '\n'}debug: ${offset(i)}`;
    out += ` ${wire[i]!.toString(16).padStart(2, '0')}`;
  }
  return `${out}\ndebug: ${offset(wire.length)}`;
}

function offset(n: number): string {
  return n.toString(16).padStart(6, '0');
}
