// `npm run bench ccm-render`: the MetalLB and Cilium config for 1,000 IPs and 500 nodes (target: at most
// 50 ms), rendered in process (what the config controller runs on every sync).
import { IpType, type LoadBalancerIp } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { renderConfig } from "../services/ccm/src/lb-config.js";

const nodes = Array.from({ length: 500 }, (_, i) => ({
  name: `shoot--p--w-${i}`,
  internalIp: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  labels: {
    "kubernetes.io/hostname": `shoot--p--w-${i}`,
    // 2-byte ASNs so every node is peered in MetalLB mode too (the worst case for the renderer).
    "machine.metal-stack.io/network.primary.asn": String(64512 + i),
  },
}));
const ips: LoadBalancerIp[] = Array.from({ length: 1000 }, (_, i) => ({
  address: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  networkId: i % 10 === 0 ? "ext2" : "internet",
  type: i % 7 === 0 ? IpType.IP_TYPE_STATIC : IpType.IP_TYPE_EPHEMERAL,
  services: [`ns-${i % 20}/svc-${i}`],
}));

function measure(mode: "metallb" | "cilium") {
  for (let i = 0; i < 20; i++) renderConfig({ mode, nodes, ips }); // warm-up (JIT)
  const times: number[] = [];
  let objects = 0;
  let bytes = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const out = renderConfig({ mode, nodes, ips });
    times.push(performance.now() - t0);
    objects = out.objects.length;
    bytes = out.objects.reduce((n, o) => n + o.json.length, 0);
  }
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  console.log(
    `${mode.padEnd(8)} 1000 IPs x 500 nodes: ${objects} objects (${(bytes / 1024).toFixed(0)} KiB) p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${times.at(-1)!.toFixed(2)} ms (target 50 ms)`,
  );
  return times.at(-1)!;
}

const worst = Math.max(measure("metallb"), measure("cilium"));
if (worst > 50) {
  console.log(`FAIL: slowest render ${worst.toFixed(1)} ms > 50 ms`);
  process.exitCode = 1;
}
