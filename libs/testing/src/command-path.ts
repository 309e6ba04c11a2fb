import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Where Debian installs daemons (nats-server, etcd's tools, nft), often missing from a non-root PATH. */
export const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The command to spawn for a Debian tool: its name when PATH finds it, else its full path in an sbin dir
 * (a non-root user's PATH usually lacks /usr/sbin, where nats-server lives), else the name, so the spawn
 * error names the missing command.
 */
export function commandPath(name: string, path = process.env.PATH ?? ""): string {
  for (const dir of path.split(delimiter)) if (dir && executable(join(dir, name))) return name;
  for (const dir of SBIN_DIRS) if (executable(join(dir, name))) return join(dir, name);
  return name;
}
