// The emulator under a production-sized inventory: 10,000 machines, 600 of them allocated to 30 clusters,
// then POST /v1/machine/find with a cluster tag filter (what machine-driver's ListMachines and the ccm do).
// The emulator runs in its own process; the client runs here over loopback HTTP.
// Target: find with a tag filter, p50 at most 20 ms.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetalApiClient } from "@metal-kube/metal-api";
import { freePort, waitFor } from "@metal-kube/testing";
import { bundlePath } from "../scripts/build.js";
import { smallInventory } from "../services/metal-api-emulator/src/index.js";

const MACHINES = Number(process.env.BENCH_MACHINES ?? 10_000);
const CLUSTERS = 30;
const PER_CLUSTER = 20;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 400);
const RACKS = 100;

const dir = mkdtempSync(join(tmpdir(), "bench-emulator-"));
const inventoryFile = join(dir, "inventory.json");
writeFileSync(inventoryFile, JSON.stringify(smallInventory({ racks: RACKS, perRack: MACHINES / RACKS })));

const port = await freePort();
const child = spawn(process.execPath, [bundlePath("metal-api-emulator")], {
  env: {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    EMULATOR_INVENTORY: inventoryFile,
    EMULATOR_PERSIST: "false",
    EMULATOR_PROVISION_STEP: "1h",
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "ignore", "inherit"],
});
const url = `http://127.0.0.1:${port}`;
const metal = createMetalApiClient({ url, hmac: "metal-edit", timeoutMs: 120_000 });
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
try {
  await waitFor("emulator", async () => (await metal.health()).status === "healthy", {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  const t0 = performance.now();
  for (let c = 0; c < CLUSTERS; c++) {
    const net = await metal.network.allocate({ partitionid: "p1", projectid: `proj-${c % 5}` });
    await Promise.all(
      Array.from({ length: PER_CLUSTER }, (_, i) =>
        metal.machine.allocate({
          name: `c${c}-w${i}`,
          hostname: `c${c}-w${i}`,
          projectid: `proj-${c % 5}`,
          partitionid: "p1",
          sizeid: "c1-large-x86",
          imageid: "ubuntu-24.04",
          ssh_pub_keys: [],
          networks: [{ networkid: net.id, autoacquire: true }],
          tags: [`cluster.metal-stack.io/id=c${c}`],
          placement_tags: [`cluster.metal-stack.io/id=c${c}`],
        }),
      ),
    );
  }
  const allocMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS + 50; i++) {
    const c = i % CLUSTERS;
    const s = performance.now();
    const found = await metal.machine.find({
      tags: [`cluster.metal-stack.io/id=c${c}`],
      allocation_project: `proj-${c % 5}`,
    });
    const ms = performance.now() - s;
    if (found.length !== PER_CLUSTER)
      throw new Error(`expected ${PER_CLUSTER} machines, got ${found.length}`);
    if (i >= 50) times.push(ms);
  }
  const full: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    await metal.machine.find({ partition_id: "p1", sizeid: "c1-large-x86" });
    full.push(performance.now() - s);
  }
  const p50 = pct(times, 0.5);
  console.log(
    `inventory: ${MACHINES} machines in ${RACKS} racks; ${CLUSTERS * PER_CLUSTER} allocated in ${allocMs.toFixed(0)} ms (${((CLUSTERS * PER_CLUSTER) / (allocMs / 1000)).toFixed(0)} allocations/s)`,
  );
  console.log(
    `find by cluster tag (${PER_CLUSTER} hits of ${MACHINES}): p50 ${p50.toFixed(2)} ms, p90 ${pct(times, 0.9).toFixed(2)} ms, p99 ${pct(times, 0.99).toFixed(2)} ms over ${ITERATIONS} calls`,
  );
  console.log(
    `find without tag filter (all ${MACHINES} machines returned): p50 ${pct(full, 0.5).toFixed(0)} ms`,
  );
  console.log(`target p50 <= 20 ms: ${p50 <= 20 ? "met" : "MISSED"}`);
  if (p50 > 20) process.exitCode = 1;
} finally {
  await metal.close();
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
