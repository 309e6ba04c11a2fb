// The configuration reference is generated from the schemas; it must match the code that validates.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";
import { ROOT } from "../../scripts/stack.js";

const run = promisify(execFile);

test("docs/configuration.md matches the services' config schemas", async (t) => {
  await t.notThrowsAsync(
    run(process.execPath, ["--import", "tsx", join(ROOT, "scripts/config-reference.ts"), "--check"], {
      cwd: ROOT,
    }),
    "run `npm run config-reference` and commit docs/configuration.md",
  );
});
