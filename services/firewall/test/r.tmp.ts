import { largeState } from "../../../bench/fixtures/firewall-state.js";
import { createRenderer } from "../src/renderer.js";
import { firewallSpec } from "./fixtures/spec.js";

const s = largeState({ firewall: firewallSpec() });
const r = createRenderer();
for (let i = 0; i < 5; i++) r.render(s);
const ts: number[] = [];
for (let i = 0; i < 30; i++) {
  const t = performance.now();
  r.render(s);
  ts.push(performance.now() - t);
}
ts.sort((a, b) => a - b);
console.log(`min ${ts[0]!.toFixed(0)} p25 ${ts[7]!.toFixed(0)} p50 ${ts[15]!.toFixed(0)}`);
