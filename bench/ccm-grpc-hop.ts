// `npm run bench ccm-grpc-hop`: what one call costs the adapter when it crosses the pod's unix socket
// instead of calling the domain in its own process. InstanceMetadata by node name, 50 machines cached
// (no metal-api call in the measured loop): 2,000 calls 50 at a time (as the node controller makes them)
// and 500 one after another, against the service's bundle as deployed; the same calls in-process.
import { join } from "node:path";
import { createLogger } from "@metal-kube/logging";
import { makeTempDir } from "@metal-kube/testing";
import { serviceNodeArgs } from "../scripts/build.js";
import { createCcmClient } from "../services/ccm/src/adapter/ccm-client.js";
import { createCloudProvider } from "../services/ccm/src/cloud-provider.js";
import { CLUSTER, ccmEnv, PARTITION, PROJECT, startMetal } from "../services/ccm/test/harness.js";
import { cpuMicros, startServerProcess } from "./fixtures/server-process.js";

const MACHINES = 50;
const metal = await startMetal({ machines: MACHINES + 10, racks: 2 });
const dir = makeTempDir("bench-ccm-hop-");
const address = `unix://${join(dir.path, "ccm.sock")}`;
const service = await startServerProcess(
  serviceNodeArgs("ccm"),
  {
    ...ccmEnv(metal.url, { LOG_LEVEL: "warn", INSTANCE_CACHE_TTL: "10m" }),
    EVENTS_OUTBOX_DIR: join(dir.path, "outbox"),
  },
  { listen: address },
);
const ccm = createCcmClient({ address });
const cp = createCloudProvider({
  metal: metal.edit,
  projectId: PROJECT,
  partitionId: PARTITION,
  clusterId: CLUSTER,
  defaultExternalNetworkId: "internet",
  instanceCacheTtlMs: 600_000,
  logger: createLogger({ name: "bench-ccm-hop", level: "warn" }),
});
try {
  const names = Array.from({ length: MACHINES }, (_, i) => `hop-${i}`);
  for (const n of names) await metal.allocateMachine(n);
  const request = (i: number) => ({ node: { providerId: "", nodeName: names[i % MACHINES]! } });

  async function run(label: string, call: (i: number) => Promise<unknown>, calls: number, width: number) {
    let next = 0;
    const cpu0 = process.cpuUsage();
    const service0 = cpuMicros(service.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < calls) await call(next++);
      }),
    );
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const serviceCpu = cpuMicros(service.pid) - service0;
    console.log(
      `${label}, ${calls} calls ${width} at a time: ${ms.toFixed(0)} ms; per call ${((ms * width) / calls).toFixed(2)} ms latency, CPU ${((cpu.user + cpu.system) / calls).toFixed(0)} µs caller + ${(serviceCpu / calls).toFixed(0)} µs service`,
    );
  }
  // The first round warms the caches and the JIT; the second is the figure.
  for (const round of ["warm-up", "measured"]) {
    console.log(`-- ${round}`);
    await run("in-process", (i) => cp.instanceMetadata(request(i)), 2000, 50);
    await run("gRPC over the unix socket", (i) => ccm.instanceMetadata(request(i)), 2000, 50);
    await run("gRPC over the unix socket", (i) => ccm.instanceMetadata(request(i)), 500, 1);
  }
} finally {
  ccm.close();
  await service.stop();
  await metal.close();
  dir.remove();
}
