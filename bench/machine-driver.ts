// machine-driver under load: the emulator and the driver each in their own process (as deployed), the
// gRPC client here.
//   1. 500 CreateMachine calls at concurrency 50: total time, p50/p99 per call, and the driver's own
//      time per call (metal-api excluded), from the driver's machine_driver_own_seconds histogram.
//      Target: own time p50 at most 1 ms.
//   2. The cluster grown to 5,000 allocated machines, then ListMachines. Target: at most 100 ms.
//   3. Driver RSS with 5,000 machines. Target: at most 150 MB.
// Knobs: BENCH_DRIVER_NODE_OPTIONS, BENCH_DRIVER_NODE_ARGS (e.g. --cpu-prof), BENCH_SMAPS=1 (memory detail).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { createMetalApiClient } from "@metal-kube/metal-api";
import {
  type CreateMachineRequest,
  type CreateMachineResponse,
  type ListMachinesRequest,
  type ListMachinesResponse,
  MachineDriverClient,
} from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { freePort, waitFor } from "@metal-kube/testing";
import { bundlePath } from "../scripts/build.js";
import { smallInventory } from "../services/metal-api-emulator/src/index.js";

const CREATES = Number(process.env.BENCH_CREATES ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const TOTAL = Number(process.env.BENCH_TOTAL_MACHINES ?? 5_000);
const LIST_ITERATIONS = Number(process.env.BENCH_LIST_ITERATIONS ?? 30);
const RACKS = 50;
const EDIT_KEY = "bench-edit";
const CLUSTER = "bench-cluster";

const dir = mkdtempSync(join(tmpdir(), "bench-machine-driver-"));
const inventoryFile = join(dir, "inventory.json");
writeFileSync(
  inventoryFile,
  JSON.stringify(smallInventory({ racks: RACKS, perRack: Math.ceil((TOTAL + 100) / RACKS) })),
);

const children: ReturnType<typeof spawn>[] = [];
/** Starts a service from its bundle (`npm run bench` builds them first), as deploy/ runs it. */
function start(bundle: string, env: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, bundlePath(bundle)], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

const metalPort = await freePort();
start("metal-api-emulator", {
  PORT: String(metalPort),
  HOST: "127.0.0.1",
  EMULATOR_INVENTORY: inventoryFile,
  EMULATOR_PERSIST: "false",
  EMULATOR_PROVISION_STEP: "1h",
  METAL_API_HMAC_EDIT_KEY: EDIT_KEY,
});
const metalUrl = `http://127.0.0.1:${metalPort}`;
const grpcPort = await freePort();
const metricsPort = await freePort();
// The driver as deployed (deploy/machine-driver caps the V8 heap the same way); override to compare.
const DRIVER_NODE_OPTIONS =
  process.env.BENCH_DRIVER_NODE_OPTIONS ?? "--max-old-space-size=160 --max-semi-space-size=8";
// Extra node flags for the driver only, e.g. BENCH_DRIVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const DRIVER_NODE_ARGS = (process.env.BENCH_DRIVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
const driverProc = start(
  "machine-driver",
  {
    NODE_OPTIONS: DRIVER_NODE_OPTIONS,
    GRPC_LISTEN: `127.0.0.1:${grpcPort}`,
    METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    EVENTS_ENABLED: "false",
    EVENTS_OUTBOX_DIR: join(dir, "outbox"),
    NATS_URL: "nats://127.0.0.1:1",
    // As deploy/machine-driver sets it (see the comment there).
    MALLOC_MMAP_THRESHOLD_: "1048576",
  },
  DRIVER_NODE_ARGS,
);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** p50 of a Prometheus histogram: the upper bound of the bucket holding the median (conservative). */
function histogramP50(
  text: string,
  name: string,
  label: string,
): { p50: number; mean: number; count: number } {
  const buckets: Array<[number, number]> = [];
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (!line.includes(label)) continue;
    const b = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`).exec(line);
    if (b) buckets.push([b[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(b[1]), Number(b[2])]);
    const s = new RegExp(`^${name}_sum\\{.*\\} ([\\d.e+-]+)`).exec(line);
    if (s) sum = Number(s[1]);
    const c = new RegExp(`^${name}_count\\{.*\\} (\\d+)`).exec(line);
    if (c) count = Number(c[1]);
  }
  const half = count / 2;
  const p50 = buckets.sort((a, b) => a[0] - b[0]).find(([, n]) => n >= half)?.[0] ?? Number.NaN;
  return { p50: p50 * 1000, mean: (sum / Math.max(1, count)) * 1000, count };
}

/** Sum and count of the kit's per-call handling time for ListMachines (server side, in seconds). */
const handling = (t: string) => {
  const v = (n: string) =>
    Number(
      new RegExp(
        `^grpc_server_handling_seconds_${n}\\{[^}]*method="[^"]*ListMachines"[^}]*\\} ([\\d.e+-]+)`,
        "m",
      ).exec(t)?.[1] ?? Number.NaN,
    );
  return { sum: v("sum"), count: v("count") };
};

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

const client = new MachineDriverClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), {
  "grpc.max_receive_message_length": 64 << 20,
  // MCM's side is the Go bridge, whose gRPC client grows its window by BDP estimation; grpc-js keeps
  // 64 KiB, so a 320 KiB ListMachines answer would wait for window updates that the bridge never waits for.
  "grpc-node.flow_control_window": 4 << 20,
});
const unary =
  <Req, Res>(fn: unknown) =>
  (req: Req): Promise<Res> =>
    new Promise((resolve, reject) =>
      (fn as (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r?: Res) => void) => void).call(
        client,
        req,
        new Metadata(),
        { deadline: Date.now() + 120_000 },
        (e, r) => (e ? reject(e) : resolve(r as Res)),
      ),
    );
const create = unary<CreateMachineRequest, CreateMachineResponse>(client.createMachine);
const list = unary<ListMachinesRequest, ListMachinesResponse>(client.listMachines);

let failed = false;
try {
  const metal = createMetalApiClient({ url: metalUrl, hmac: EDIT_KEY, timeoutMs: 120_000 });
  await waitFor("emulator", async () => (await metal.health()).status === "healthy", {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  const network = await metal.network.allocate({
    partitionid: "p1",
    projectid: "bench",
    length: { IPv4: 18 },
  });
  await metal.close();
  await new Promise<void>((resolve, reject) =>
    client.waitForReady(Date.now() + 60_000, (err) => (err ? reject(err) : resolve())),
  );
  const machineClass = {
    name: "bench",
    provider: "metal",
    nodeTemplate: undefined,
    providerSpec: JSON.stringify({
      partition: "p1",
      size: "c1-large-x86",
      image: "ubuntu-24.04",
      project: "bench",
      network: network.id,
      tags: [`cluster.metal-stack.io/id=${CLUSTER}`, "kubernetes.io/role=node"],
    }),
  };
  const secret = {
    userData: Buffer.from('{"ignition":{"version":"3.3.0"}}'),
    metalApiUrl: metalUrl,
    metalApiKey: "",
    metalApiHmac: EDIT_KEY,
  };
  const req = (name: string) => ({
    machine: { name, namespace: "bench", providerId: "", labels: {} },
    machineClass,
    secret,
  });

  /** Creates machines from..to-1 at the concurrency; returns per-call latencies in ms. */
  async function createRange(from: number, to: number): Promise<number[]> {
    const lat: number[] = [];
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < to) {
          const i = next++;
          const s = performance.now();
          await create(req(`bench-w-${i}`));
          lat.push(performance.now() - s);
        }
      }),
    );
    return lat;
  }

  // Warm-up outside the figures: JIT, connections, the client pool.
  await createRange(0, 50);
  const before = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const t0 = performance.now();
  const lat = await createRange(50, 50 + CREATES);
  const totalMs = performance.now() - t0;
  const after = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const own = histogramP50(after, "machine_driver_own_seconds", 'method="CreateMachine"');
  const ownBefore = histogramP50(before, "machine_driver_own_seconds", 'method="CreateMachine"');
  console.log(
    `CreateMachine x${CREATES} at concurrency ${CONCURRENCY}: ${(totalMs / 1000).toFixed(2)} s total, ${(CREATES / (totalMs / 1000)).toFixed(0)} calls/s`,
  );
  console.log(`  per call (client): p50 ${ms(pct(lat, 0.5))}, p99 ${ms(pct(lat, 0.99))}`);
  console.log(
    `  driver own time (metal-api excluded): p50 <= ${ms(own.p50)} (histogram bucket), mean ${ms(own.mean)} over ${own.count - ownBefore.count + 50} calls; target p50 <= 1 ms`,
  );
  if (!(own.p50 <= 1)) failed = true;

  // Grow to TOTAL allocated machines through the driver.
  const t1 = performance.now();
  await createRange(50 + CREATES, TOTAL);
  console.log(`grew to ${TOTAL} machines in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const peakBeforeLists = rssMb(driverProc.pid!).hwm;
  const listReq = { machineClass, secret };
  const first = await list(listReq);
  const keys = Object.keys(first.machineList).length;
  if (keys !== TOTAL) {
    console.log(`ListMachines returned ${keys} machines, expected ${TOTAL}`);
    failed = true;
  }
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const findBefore = histogramP50(
    await scrape(),
    "machine_driver_metal_api_seconds",
    'operation="machine.find"',
  );
  const ownBeforeList = histogramP50(await scrape(), "machine_driver_own_seconds", 'method="ListMachines"');
  const handlingBefore = handling(await scrape());
  const listLat: number[] = [];
  for (let i = 0; i < LIST_ITERATIONS; i++) {
    const s = performance.now();
    await list(listReq);
    listLat.push(performance.now() - s);
  }
  const text = await scrape();
  const handlingAfter = handling(text);
  const handlingMean =
    ((handlingAfter.sum - handlingBefore.sum) / (handlingAfter.count - handlingBefore.count)) * 1000;
  const findAfter = histogramP50(text, "machine_driver_metal_api_seconds", 'operation="machine.find"');
  const listOwn = histogramP50(text, "machine_driver_own_seconds", 'method="ListMachines"');
  const findMean =
    (findAfter.mean * findAfter.count - findBefore.mean * findBefore.count) /
    (findAfter.count - findBefore.count);
  const ownMean =
    (listOwn.mean * listOwn.count - ownBeforeList.mean * ownBeforeList.count) /
    (listOwn.count - ownBeforeList.count);
  console.log(
    `ListMachines over ${keys} machines: p50 ${ms(pct(listLat, 0.5))}, max ${ms(Math.max(...listLat))}; of which metal-api find (request, ${TOTAL} full machines, decode) mean ${ms(findMean)}, driver own time mean ${ms(ownMean)}; the driver's whole handling mean ${ms(handlingMean)}; target <= 100 ms`,
  );
  if (!(pct(listLat, 0.5) <= 100)) failed = true;
  const busy = rssMb(driverProc.pid!);
  // Idle for a while: V8 gives the decoded responses' pages back only after its memory reducer ran.
  await new Promise((r) => setTimeout(r, 15_000));
  const mem = rssMb(driverProc.pid!);
  if (process.env.BENCH_SMAPS) {
    console.log(readFileSync(`/proc/${driverProc.pid}/smaps_rollup`, "utf8"));
    const m = (await scrape())
      .split("\n")
      .filter((l) => /^(process_|nodejs_heap_size|nodejs_external)/.test(l));
    console.log(m.join("\n"));
  }
  console.log(
    `driver RSS with ${TOTAL} machines (NODE_OPTIONS=${DRIVER_NODE_OPTIONS || "none"}): ${mem.rss.toFixed(0)} MB idle, ${busy.rss.toFixed(0)} MB right after the lists, peak ${mem.hwm.toFixed(0)} MB (${peakBeforeLists.toFixed(0)} MB before the lists); target <= 150 MB`,
  );
  if (!(mem.rss <= 150)) failed = true;
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  client.close();
  for (const c of children) c.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
console.log(failed ? "machine-driver: some targets missed" : "machine-driver: all targets met");
process.exit(failed ? 1 : 0);
