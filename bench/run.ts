// `npm run bench [name ...]`: runs bench/<name>.ts (every benchmark when no name is given), one process each,
// so one benchmark's heap and servers never skew the next.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildBundles } from "../scripts/build.js";

const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts")
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
  process.exit(2);
}
// Services run as deployed: the bundles under dist/ (scripts/build.ts), not through tsx.
await buildBundles();
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, ["--import", "tsx", join(dir, `${name}.ts`)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
