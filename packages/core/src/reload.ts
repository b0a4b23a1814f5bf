/**
 * How the running process reloads its configuration. The executable sets it;
 * SIGUSR1 and the `reload` plugin both go through it, so a reload is the same
 * whoever asks for it.
 */

export interface CorefileSource {
  text: string;
  /** `Corefile`, the -conf path, or `/dev/stdin`. */
  filename: string;
}

export interface ProcessReloader {
  /** Reads the Corefile the way it was read at start (-conf file, ./Corefile or the default). */
  read(): CorefileSource;
  /** The Corefile the running configuration (or the one being started by a reload) was built from. */
  current(): CorefileSource;
  /**
   * Restarts with the given Corefile (or a fresh read), taking over the
   * listening sockets. Resolves once the new configuration serves; rejects
   * when it failed, in which case the old configuration keeps serving.
   */
  reload(source?: CorefileSource): Promise<void>;
}

let current: ProcessReloader | undefined;

export function setProcessReloader(r: ProcessReloader | undefined): void {
  current = r;
}

/** The process's reloader, or undefined when tsdns runs embedded (tests). */
export function processReloader(): ProcessReloader | undefined {
  return current;
}
