// The ccm process: bad configuration exits 2 naming the variable; credentials never reach the logs.

import { join } from "node:path";
import { makeTempDir, spawnProcess } from "@metal-kube/testing";
import test from "ava";
import {
  ccmClient,
  ccmEnv,
  EDIT_KEY,
  lbService,
  type MetalBed,
  startAdapter,
  startCcm,
  startMetal,
} from "./harness.js";

const main = join(import.meta.dirname, "../src/main.ts");
let metal: MetalBed;

test.before(async () => {
  metal = await startMetal({ machines: 2 });
});
test.after.always(async () => {
  await metal?.close();
});

async function exitOf(env: Record<string, string | undefined>) {
  const proc = spawnProcess(process.execPath, ["--import", "tsx", main], {
    env: {
      ...process.env,
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
      EVENTS_ENABLED: "false",
      EVENTS_OUTBOX_DIR: join(makeTempDir("ccm-exit-").path, "outbox"),
      ...env,
    },
  });
  const code = await proc.exited;
  return { code, output: proc.output() };
}

test("a missing or bad variable exits 2 naming it", async (t) => {
  const env = ccmEnv(metal.url);
  const missing = await exitOf({ ...env, METAL_PROJECT_ID: "" });
  t.is(missing.code, 2);
  t.regex(missing.output, /METAL_PROJECT_ID/);
  const bad = await exitOf({ ...env, LOADBALANCER: "haproxy", INSTANCE_CACHE_TTL: "soon" });
  t.is(bad.code, 2);
  t.regex(bad.output, /LOADBALANCER/);
  t.regex(bad.output, /INSTANCE_CACHE_TTL/);
});

test("exactly one of METAL_API_HMAC and METAL_API_TOKEN", async (t) => {
  const env = ccmEnv(metal.url);
  const both = await exitOf({ ...env, METAL_API_TOKEN: "a-token-value" });
  t.is(both.code, 2);
  t.regex(both.output, /METAL_API_HMAC, METAL_API_TOKEN: set exactly one/);
  t.false(both.output.includes("a-token-value"));
  t.false(both.output.includes(EDIT_KEY));
  const none = await exitOf({ ...env, METAL_API_HMAC: "" });
  t.is(none.code, 2);
});

test("the HMAC key is never logged, even at debug level", async (t) => {
  const ccm = await startCcm(ccmEnv(metal.url, { LOG_LEVEL: "debug" }));
  t.teardown(() => ccm.stop());
  const c = ccmClient(ccm.address);
  t.teardown(() => c.close());
  await c.ensureLoadBalancer({ service: lbService("logged"), nodes: [] });
  await c.ensureLoadBalancerDeleted({ service: lbService("logged") });
  t.false(ccm.proc.output().includes(EDIT_KEY));
  // The effective configuration is logged at start, with the key masked.
  t.true(ccm.logs().some((l) => JSON.stringify(l).includes(`"METAL_API_HMAC":"[REDACTED]"`)));
});

test("the adapter process: a bad variable exits 2 naming it; an unreachable service fails the start naming it", async (t) => {
  const adapterMain = join(import.meta.dirname, "../src/adapter/main.ts");
  const bad = spawnProcess(process.execPath, ["--import", "tsx", adapterMain], {
    env: { ...process.env, CCM_ADDRESS: "not an address", HOUSEKEEPING_INTERVAL: "soon" },
  });
  t.is(await bad.exited, 2);
  t.regex(bad.output(), /CCM_ADDRESS: must be host:port or unix:\/\/\/path\/to\.sock/);
  t.regex(bad.output(), /HOUSEKEEPING_INTERVAL/);
  // Nothing listens on the socket: the adapter gives up after CCM_CONNECT_TIMEOUT, naming the address.
  const dir = makeTempDir("ccm-adapter-exit-");
  t.teardown(dir.remove);
  const address = `unix://${join(dir.path, "none.sock")}`;
  const err = await t.throwsAsync(startAdapter({ CCM_ADDRESS: address, CCM_CONNECT_TIMEOUT: "1s" }));
  t.regex(err?.message ?? "", /^ccm adapter exited with 1/);
  t.true(err?.message.includes(`the ccm service at ${address} did not answer`));
});
