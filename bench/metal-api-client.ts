// What the metal-api client adds to one call beyond the HTTP round trip: the same GET of a realistic
// MachineResponse (~4 KB), once through createMetalApiClient (HMAC signing, deadline, abort wiring, error
// mapping, JSON decode) and once as a bare undici request on an identical keep-alive pool reading the body
// as text. Interleaved rounds cancel drift. Target: client overhead p50 at most 0.3 ms.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createMetalApiClient } from "@metal-kube/metal-api";
import { Pool } from "undici";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 500);

const machine = {
  id: "a4959c36-1363-5b3a-bf75-1c86f944e446",
  name: "w1",
  rackid: "rack-1",
  tags: [
    "cluster.metal-stack.io/id=c1",
    "machine.metal-stack.io/rack=rack-1",
    "machine.metal-stack.io/network.primary.asn=4210000000",
  ],
  state: { value: "", description: "", metal_hammer_version: "v0.13.0" },
  liveliness: "Alive",
  events: {
    log: Array.from({ length: 5 }, (_, i) => ({
      event: `e${i}`,
      message: "",
      time: new Date().toISOString(),
    })),
    crash_loop: false,
    failed_machine_reclaim: false,
  },
  allocation: {
    allocationuuid: "ae67e9b5-84a2-4cec-b928-c26c4b6857d0",
    created: new Date().toISOString(),
    creator: "metal-edit@metal-pod.io",
    name: "w1",
    hostname: "w1",
    project: "proj1",
    role: "machine",
    ssh_pub_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBmmRyX0eIGkLWSMW3k0RbOAyShNNJVpqBWdLcAYG6Nj x"],
    succeeded: true,
    reinstall: false,
    user_data: "I2lnbml0aW9u".repeat(80),
    networks: [
      {
        networkid: "n1",
        projectid: "proj1",
        ips: ["10.0.0.1"],
        prefixes: ["10.0.0.0/22"],
        destinationprefixes: [],
        vrf: 30,
        asn: 4210000000,
        nat: false,
        private: true,
        underlay: false,
        networktype: "privateprimaryunshared",
        networktypev2: "child",
        nattypev2: "none",
      },
      {
        networkid: "internet",
        projectid: "",
        ips: ["198.18.0.1"],
        prefixes: ["198.18.0.0/22"],
        destinationprefixes: ["0.0.0.0/0"],
        vrf: 104009,
        asn: 4210000000,
        nat: true,
        private: false,
        underlay: false,
        networktype: "external",
        networktypev2: "external",
        nattypev2: "ipv4-masquerade",
      },
    ],
  },
  hardware: {
    cpu_cores: 16,
    memory: 68719476736,
    disks: [{ name: "/dev/sda", size: 960000000000 }],
    nics: [],
  },
  bios: { date: "04/27/2023", vendor: "AMI", version: "3.4" },
  ledstate: { value: "", description: "" },
};
const body = JSON.stringify(machine);

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const client = createMetalApiClient({ url: origin, hmac: "metal-edit", connections: 1 });
const pool = new Pool(origin, { connections: 1, keepAliveTimeout: 30_000, pipelining: 1 });
const raw = async () => {
  const res = await pool.request({
    path: "/v1/machine/a4959c36",
    method: "GET",
    headers: { accept: "application/json" },
  });
  return res.body.text();
};
const viaClient = () => client.machine.get("a4959c36");

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
async function measure(fn: () => Promise<unknown>, n: number) {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return t;
}

await measure(raw, 500);
await measure(viaClient, 500);
const rawT: number[] = [];
const cliT: number[] = [];
const deltas: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await measure(raw, PER_ROUND);
  const b = await measure(viaClient, PER_ROUND);
  rawT.push(...a);
  cliT.push(...b);
  deltas.push(pct(b, 0.5) - pct(a, 0.5));
}
const overhead = pct(cliT, 0.5) - pct(rawT, 0.5);
console.log(
  `bare undici round trip: p50 ${(pct(rawT, 0.5) * 1000).toFixed(0)} µs, p99 ${(pct(rawT, 0.99) * 1000).toFixed(0)} µs`,
);
console.log(
  `through the client:     p50 ${(pct(cliT, 0.5) * 1000).toFixed(0)} µs, p99 ${(pct(cliT, 0.99) * 1000).toFixed(0)} µs`,
);
console.log(
  `client overhead per call: p50 ${(overhead * 1000).toFixed(0)} µs (median of per-round deltas ${(pct(deltas, 0.5) * 1000).toFixed(0)} µs)`,
);
console.log(`target overhead p50 <= 300 µs: ${overhead <= 0.3 ? "met" : "MISSED"}`);
if (overhead > 0.3) process.exitCode = 1;
await client.close();
await pool.close();
server.close();
