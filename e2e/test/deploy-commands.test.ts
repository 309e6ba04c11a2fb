// The deploy manifests start each bundled service with the node options scripts/build.ts gives it, the
// same ones `npm start` and the benchmarks use: V8 heap settings exist only on the command line.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { ENTRIES, NODE_FLAGS } from "../../scripts/build.js";

const DEPLOY = join(import.meta.dirname, "../../deploy");

/**
 * Every `command: [...]` of the manifests and every `ExecStart=` of the systemd units (machines that are
 * no Kubernetes node, such as the firewall) that runs a bundle, as [file, argv with `dist/<name>.mjs` last].
 */
function bundleCommands(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = [];
  for (const dir of readdirSync(DEPLOY)) {
    for (const f of readdirSync(join(DEPLOY, dir)).filter((n) => n.endsWith(".yaml"))) {
      const text = readFileSync(join(DEPLOY, dir, f), "utf8");
      for (const m of text.matchAll(/^\s*command:\s*(\[.*\])\s*$/gm)) {
        const argv = JSON.parse(m[1] as string) as string[];
        if (argv[0] === "node" && argv.at(-1)?.startsWith("dist/")) out.push([`${dir}/${f}`, argv]);
      }
    }
    for (const f of readdirSync(join(DEPLOY, dir)).filter((n) => n.endsWith(".service"))) {
      const text = readFileSync(join(DEPLOY, dir, f), "utf8");
      for (const m of text.matchAll(/^ExecStart=(\S*node) (.*)$/gm)) {
        const argv = ["node", ...(m[2] as string).split(/\s+/)];
        const bundle = argv.at(-1) ?? "";
        const i = bundle.indexOf("dist/");
        if (i >= 0) out.push([`${dir}/${f}`, [...argv.slice(0, -1), bundle.slice(i)]]);
      }
    }
  }
  return out;
}

test("every deployed bundle is started with exactly its NODE_FLAGS", (t) => {
  const commands = bundleCommands();
  t.true(commands.length >= 3, `found ${commands.length} bundle commands under deploy/`);
  for (const [file, argv] of commands) {
    const name = (argv.at(-1) as string).slice("dist/".length, -".mjs".length);
    t.true(name in ENTRIES, `${file}: dist/${name}.mjs is not a bundle scripts/build.ts makes`);
    t.deepEqual(argv.slice(1, -1), [...(NODE_FLAGS[name] ?? [])], `${file}: node options of ${name}`);
  }
  // A flag set for a service nobody deploys would be a typo.
  const deployed = new Set(commands.map(([, a]) => (a.at(-1) as string).slice(5, -4)));
  for (const name of Object.keys(NODE_FLAGS)) t.true(deployed.has(name), `NODE_FLAGS.${name} is deployed`);
});
