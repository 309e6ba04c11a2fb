// The Go bridge: its generated code matches the proto, and its own Go tests (code mapping one to one,
// Uninitialized, deadlines, unix socket) pass. Runs the machine's Go; builds are cached by Go itself.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import test from "ava";

const run = promisify(execFile);
const bridge = join(import.meta.dirname, "../src/adapter");
const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false" };

test("bridge gen/ is generated from the current proto", async (t) => {
  t.timeout(5 * 60_000);
  const { stdout } = await run(process.execPath, [join(bridge, "generate.mjs"), "--check"], { env });
  t.regex(stdout, /up to date/);
});

test("bridge Go tests pass", async (t) => {
  t.timeout(15 * 60_000);
  const { stdout } = await run("go", ["test", "-count=1", "./..."], {
    cwd: bridge,
    env,
    maxBuffer: 16 << 20,
  });
  t.regex(stdout, /^ok\s+metal-kube\.local\/machine-driver\/bridge\/internal\/grpcdriver/m);
  t.notRegex(stdout, /FAIL/);
});
