import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createMetalApiClient, isForbidden } from "@metal-kube/metal-api";
import { freePort, makeTempDir, spawnProcess, waitFor } from "@metal-kube/testing";
import test from "ava";

// The emulator as `npm run emulator` starts it: configured from the environment, stopped by SIGTERM.
const MAIN = join(import.meta.dirname, "..", "src", "main.ts");

test("runs from env config, signs with the configured keys, keeps state across a SIGTERM restart", async (t) => {
  const dir = makeTempDir("emulator-process-");
  t.teardown(dir.remove);
  const port = await freePort();
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    METAL_API_HMAC_EDIT_KEY: "edit-from-env",
    EMULATOR_STATE_FILE: join(dir.path, "state.json"),
    EMULATOR_PROVISION_STEP: "50ms",
    LOG_LEVEL: "info",
  };
  const start = async () => {
    const p = spawnProcess(process.execPath, ["--import", "tsx", MAIN], { env });
    t.teardown(() => p.kill());
    await waitFor("emulator health", async () => (await fetch(`http://127.0.0.1:${port}/v1/health`)).ok, {
      timeoutMs: 30_000,
    });
    return p;
  };
  const p1 = await start();
  const url = `http://127.0.0.1:${port}`;
  const c = createMetalApiClient({ url, hmac: "edit-from-env" });
  t.teardown(() => c.close());
  t.true(isForbidden(await t.throwsAsync(createMetalApiClient({ url, hmac: "metal-edit" }).size.list())));
  t.is((await c.partition.list()).length, 2, "the shipped inventory");
  t.is((await c.machine.find({})).length, 240);
  const net = await c.network.allocate({ partitionid: "fra-equ01", projectid: "p" });
  t.is(await p1.stop(), 0);
  t.true(existsSync(env.EMULATOR_STATE_FILE));
  t.notRegex(p1.output(), /edit-from-env/, "keys are never logged");
  t.regex(p1.output(), /METAL_API_HMAC_EDIT_KEY":"\[REDACTED\]"/);
  t.true(readFileSync(env.EMULATOR_STATE_FILE, "utf8").includes(net.id));
  await start();
  t.deepEqual((await c.network.get(net.id)).prefixes, net.prefixes);
});

test("a bad variable stops the start with its name", async (t) => {
  const p = spawnProcess(process.execPath, ["--import", "tsx", MAIN], {
    env: { ...process.env, PORT: "eighty", EMULATOR_FAULT_ERROR_RATE: "2", EMULATOR_PERSIST: "false" },
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /PORT/);
  t.regex(p.output(), /EMULATOR_FAULT_ERROR_RATE/);
});

test("a broken inventory stops the start naming the field", async (t) => {
  const dir = makeTempDir("emulator-badinv-");
  t.teardown(dir.remove);
  const file = join(dir.path, "inv.yaml");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, "partitions: []\nsizes: []\n");
  const p = spawnProcess(process.execPath, ["--import", "tsx", MAIN], {
    env: {
      ...process.env,
      PORT: String(await freePort()),
      EMULATOR_INVENTORY: file,
      EMULATOR_PERSIST: "false",
    },
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /partitions/);
  t.regex(p.output(), /images/);
});
