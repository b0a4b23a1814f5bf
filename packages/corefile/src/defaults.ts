/** CoreDNS's built-in Corefile, used when there is no input or it has no server blocks. */
export function defaultCorefile(port: string): string {
  return `.:${port} {\nwhoami\nlog\n}\n`;
}
