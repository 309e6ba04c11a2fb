// A service killed with -9 leaves its unix socket file behind, and the restarted sidecar (same emptyDir)
// then cannot bind: remove the file when no process answers on it, never when one does.

import { existsSync, lstatSync, unlinkSync } from "node:fs";
import { connect } from "node:net";

/** The socket path of a `unix:///path` or `unix:/path` listen address; undefined for host:port. */
export function unixSocketPath(listen: string | undefined): string | undefined {
  if (!listen?.startsWith("unix:")) return undefined;
  return listen.startsWith("unix://") ? listen.slice("unix://".length) : listen.slice("unix:".length);
}

/** Resolves true when it removed a stale socket file. */
export async function removeStaleSocket(listen: string | undefined): Promise<boolean> {
  const path = unixSocketPath(listen);
  if (!path || !existsSync(path) || !lstatSync(path).isSocket()) return false;
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
  if (alive) return false;
  unlinkSync(path);
  return true;
}
