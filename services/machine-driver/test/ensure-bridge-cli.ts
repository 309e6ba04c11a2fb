// `node --import tsx services/machine-driver/test/ensure-bridge-cli.ts`: builds the MCM bridge into the
// cache before the suite (called by scripts/ensure.mjs), so no test pays for a cold Go build.
import { ensureBridgeBinary } from "./bridge-binary.js";

try {
  const path = await ensureBridgeBinary((line) => process.stderr.write(`machine-driver: ${line}\n`));
  process.stderr.write(`machine-driver: bridge ready (${path})\n`);
} catch (err) {
  process.stderr.write(
    `machine-driver: building the bridge failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
}
