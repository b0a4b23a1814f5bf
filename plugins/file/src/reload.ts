/**
 * Periodic zone reload (CoreDNS plugin/file reload.go): every interval the
 * file is re-read when its SOA serial changed (or, with `reload_by_mtime`,
 * when its modification time did). A file that cannot be read or parsed
 * leaves the zone as it was and logs an error.
 */
import { readFile, stat } from 'node:fs/promises';
import { goQuote, pluginLogger } from '@tsdns/core';
import { goErrno } from './errors.js';
import { parseZone, SerialUnchangedError, type Zone } from './zone.js';

const log = pluginLogger('file');

/**
 * One reload check of a zone. Resolves true when the zone was replaced.
 * Logs as CoreDNS: `Successfully reloaded zone "O" in "F" with N SOA serial`,
 * `Failed to open zone "O" in "F": …`, `Parsing zone "O": …`.
 */
export async function reloadZone(z: Zone): Promise<boolean> {
  const file = z.file;
  let serial = z.soaSerial();
  let mtimeMs = z.mtimeMs;
  if (z.reloadByMtime) {
    let st;
    try {
      st = await stat(file);
    } catch (e) {
      log.error(`Failed to stat zone ${goQuote(z.origin)} in ${goQuote(file)}: stat ${file}: ${goErrno(e)}`);
      return false;
    }
    if (!(st.mtimeMs > z.mtimeMs)) return false;
    mtimeMs = st.mtimeMs;
    serial = -1; // the modification time decides, whatever the serial
  }
  let data: Buffer;
  try {
    data = await readFile(file);
    if (!z.reloadByMtime) {
      try {
        mtimeMs = (await stat(file)).mtimeMs;
      } catch {
        // keep the old time
      }
    }
  } catch (e) {
    log.error(`Failed to open zone ${goQuote(z.origin)} in ${goQuote(file)}: open ${file}: ${goErrno(e)}`);
    return false;
  }
  let zone: Zone;
  try {
    zone = parseZone(data, z.origin, file, serial);
  } catch (e) {
    if (!(e instanceof SerialUnchangedError)) log.error(`Parsing zone ${goQuote(z.origin)}: ${(e as Error).message}`);
    return false;
  }
  z.setData(zone);
  z.mtimeMs = mtimeMs;
  log.info(`Successfully reloaded zone ${goQuote(z.origin)} in ${goQuote(file)} with ${zone.soaSerial()} SOA serial`);
  return true;
}
