// An apply that sends only what changed must leave exactly the table the full file makes: a random walk
// through desired states, applied incrementally in one namespace and in full in another, compared object
// by object (handles aside).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createLogger } from "@metal-kube/logging";
import type { DesiredState, NetworkPolicy } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { createApplier } from "../src/applier.js";
import { createNftRunner } from "../src/nft.js";
import { createRenderer } from "../src/renderer.js";
import { diffRulesets } from "../src/ruleset-diff.js";
import { createStateStore } from "../src/state-store.js";
import { firewallSpec, lbService, port } from "./fixtures/spec.js";

const run = promisify(execFile);
const id = randomBytes(3).toString("hex");
const nsInc = `fwt-di-${id}`;
const nsFull = `fwt-df-${id}`;
const dir = makeTempDir("fw-diff-");

test.before(async () => {
  await run("ip", ["netns", "add", nsInc]);
  await run("ip", ["netns", "add", nsFull]);
});
test.after.always(async () => {
  await run("ip", ["netns", "del", nsInc]).catch(() => undefined);
  await run("ip", ["netns", "del", nsFull]).catch(() => undefined);
  dir.remove();
});

/** The table as comparable data: no handles, objects and elements in a fixed order. */
async function canonical(ns: string): Promise<string[]> {
  const { stdout } = await run("ip", [
    "netns",
    "exec",
    ns,
    "/usr/sbin/nft",
    "-j",
    "list",
    "table",
    "inet",
    "firewall",
  ]);
  const objs = (JSON.parse(stdout).nftables as Array<Record<string, Record<string, unknown>>>)
    .filter((o) => !o.metainfo)
    .map((o) => {
      const [kind, body] = Object.entries(o)[0]!;
      const { handle: _h, ...rest } = body;
      if (Array.isArray(rest.elem)) rest.elem = [...rest.elem].map((e) => JSON.stringify(e)).sort();
      return { kind, body: rest };
    });
  // Rules keep their order within a chain; everything else is sorted by kind and name.
  const position = new Map<string, number>();
  const rules = objs
    .filter((o) => o.kind === "rule")
    .map((o) => {
      const chain = String(o.body.chain);
      const i = position.get(chain) ?? 0;
      position.set(chain, i + 1);
      return `rule ${chain} ${i} ${JSON.stringify(o.body)}`;
    });
  const others = objs
    .filter((o) => o.kind !== "rule")
    .map((o) => JSON.stringify(o))
    .sort();
  return [...others, ...rules];
}

/** Lines only one side has, so a failure shows what differs rather than two whole tables. */
function delta(a: string[], b: string[]): { missing: string[]; extra: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { missing: b.filter((x) => !sa.has(x)).slice(0, 5), extra: a.filter((x) => !sb.has(x)).slice(0, 5) };
}

function randomState(seed: number): DesiredState {
  let x = seed;
  const rnd = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
  const policies: NetworkPolicy[] = [];
  for (let i = 0; i < 3 + rnd(5); i++) {
    const name = `p${rnd(8)}`;
    if (policies.some((p) => p.name === name)) continue;
    const to = Array.from({ length: rnd(3) }, () =>
      rnd(4) === 0
        ? { cidr: `2001:db8:${rnd(4)}::/48`, except: [] }
        : { cidr: `198.51.${rnd(4)}.0/24`, except: rnd(3) === 0 ? [`198.51.${rnd(4)}.128/25`] : [] },
    ).filter((b) => !b.except.length || b.except[0]!.startsWith(b.cidr.slice(0, 9)));
    policies.push({
      namespace: "firewall",
      name,
      ingress:
        rnd(3) === 0
          ? [{ from: [{ cidr: `203.0.113.${rnd(2) * 128}/25`, except: [] }], ports: [port("TCP", "22")] }]
          : [],
      egress: [
        rnd(5) === 0
          ? {
              to: [],
              toFqdns: [{ matchName: `n${rnd(3)}.example.com`, matchPattern: "" }],
              ports: [port("TCP", "443")],
            }
          : {
              to,
              toFqdns: [],
              ports: rnd(3) === 0 ? [] : [port(rnd(2) ? "TCP" : "UDP", String(1 + rnd(3) * 100))],
            },
      ],
    });
  }
  return {
    firewall: firewallSpec({
      rateLimits: rnd(2) ? [{ networkId: "internet", rate: 10 + rnd(3) }] : [],
      egressRules: rnd(2) ? [{ networkId: "internet", ips: [`185.1.2.${5 + rnd(3)}`] }] : [],
      logAcceptedConnections: rnd(4) === 0,
    }),
    policies,
    services: Array.from({ length: rnd(3) }, (_, i) =>
      lbService(`s${i}`, [`185.1.2.${20 + rnd(4)}`], rnd(2) ? ["192.0.2.0/24"] : []),
    ),
  };
}

test("a walk through random desired states: the incremental table equals the full one at every step", async (t) => {
  const renderer = createRenderer();
  const applier = createApplier({
    nft: createNftRunner({ netns: nsInc }),
    table: "firewall",
    store: createStateStore(join(dir.path, "state")),
    logger: createLogger({ name: "test", level: "error" }),
  });
  let incremental = 0;
  let prev: ReturnType<typeof renderer.render> | undefined;
  for (let step = 0; step < 25; step++) {
    const next = renderer.render(randomState(step * 7919 + 1));
    if (prev && diffRulesets(prev.model, next.model, next.checksum)) incremental++;
    const r = await applier.apply(next);
    t.true(
      r.outcome === "applied" || r.outcome === "unchanged",
      `step ${step}: ${JSON.stringify(r.failure)}`,
    );
    const file = join(dir.path, "full.nft");
    writeFileSync(file, next.text);
    await run("ip", ["netns", "exec", nsFull, "/usr/sbin/nft", "-f", file]);
    t.deepEqual(
      delta(await canonical(nsInc), await canonical(nsFull)),
      { missing: [], extra: [] },
      `step ${step}`,
    );
    prev = next;
  }
  t.true(incremental >= 20, `only ${incremental} of 24 changes went incrementally`);
});
