// `node --import tsx e2e/src/install-debian-cli.ts PKG...`: installs Debian packages as root or through
// `sudo -n` (called by scripts/ensure.mjs, which finds what is missing). Exit 1 naming the packages and
// the command to run by hand.
import { installDebianPackages } from "./debian-packages.js";

const packages = process.argv.slice(2);
try {
  await installDebianPackages(packages, { onProgress: (line) => process.stderr.write(`apt: ${line}\n`) });
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
