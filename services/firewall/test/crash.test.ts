// kill -9 of the service while it applies a large ruleset: the table is the old or the new ruleset, whole
// (every chain's rule count and every set's element count match one of them), and the restarted service
// puts the last good ruleset back before it serves.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApplyOutcome, type DesiredState } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir, waitFor } from "@metal-kube/testing";
import test from "ava";
import { largeState } from "../../../bench/fixtures/firewall-state.js";
import { createLiveTable } from "../src/live-table.js";
import { createNftRunner } from "../src/nft.js";
import { createRenderer } from "../src/renderer.js";
import { egressPolicy, firewallSpec, port } from "./fixtures/spec.js";
import { type FirewallProcess, startFirewallService } from "./service-process.js";

const run = promisify(execFile);
const ns = `fwt-k-${randomBytes(3).toString("hex")}`;
const dir = makeTempDir("fw-crash-");
const renderer = createRenderer();
const live = createLiveTable(createNftRunner({ netns: ns }), "firewall");

const OLD: DesiredState = {
  firewall: firewallSpec(),
  policies: [egressPolicy("old", [["198.51.100.0/24"]], [port("TCP", "443")])],
  services: [],
};
const NEW: DesiredState = largeState({ firewall: firewallSpec(), policies: 1000 });

function expected(s: DesiredState) {
  const r = renderer.render(s);
  return {
    checksum: r.checksum,
    chainRules: r.chainRules,
    setElements: Object.fromEntries(r.summary.setDetails.map((d) => [d.name, d.elements])),
  };
}
const old = expected(OLD);
const neu = expected(NEW);

/** Which ruleset the table holds, after checking it is that one whole. */
async function liveRuleset(t: import("ava").ExecutionContext): Promise<"old" | "new"> {
  const d = await live.deep();
  t.truthy(d, "the table exists");
  const which = d!.checksum === old.checksum ? "old" : d!.checksum === neu.checksum ? "new" : undefined;
  t.truthy(which, `the table carries ${d!.checksum}, neither old nor new`);
  const want = which === "old" ? old : neu;
  t.deepEqual(d!.chainRules, want.chainRules, "every chain has the rules of one ruleset");
  t.deepEqual(d!.setElements, want.setElements, "every set has the elements of one ruleset");
  return which!;
}

const lastGoodOnDisk = () =>
  (JSON.parse(readFileSync(join(dir.path, "last-good.json"), "utf8")) as { checksum: string }).checksum;

let svc: FirewallProcess | undefined;
const start = async () => {
  svc = await startFirewallService({ FIREWALL_NETNS: ns, FIREWALL_STATE_DIR: dir.path });
  return svc;
};

test.before(async () => {
  await run("ip", ["netns", "add", ns]);
});

test.after.always(async () => {
  await svc?.killGroup();
  await run("ip", ["netns", "del", ns]).catch(() => undefined);
  dir.remove();
});

async function applyOld(s: FirewallProcess) {
  const r = await s.client.apply({ state: OLD, dryRun: false, strict: false });
  if (r.outcome !== ApplyOutcome.APPLY_OUTCOME_APPLIED && r.outcome !== ApplyOutcome.APPLY_OUTCOME_UNCHANGED)
    throw new Error(JSON.stringify(r.failure));
}

/** Starts the big apply and returns once the service says it runs `nft -f`. */
async function applyNewUntilApplying(s: FirewallProcess) {
  s.client.apply({ state: NEW, dryRun: false, strict: false }).catch(() => undefined);
  await waitFor(
    "applying",
    () => s.logs().find((l) => l.msg === "applying ruleset" && l.checksum === neu.checksum),
    { timeoutMs: 60_000, intervalMs: 2 },
  );
}

test.serial(
  "kill -9 of the process group during an apply leaves the old or the new ruleset, never a mix",
  async (t) => {
    // How long the apply takes here, from `nft -f` to the answer: the kills are spread over that time.
    const first = svc ?? (await start());
    await applyOld(first);
    const began = Date.now();
    const whole = first.client.apply({ state: NEW, dryRun: false, strict: false });
    await applyNewUntilApplying(first).catch(() => undefined);
    const applying = Date.now();
    t.is((await whole).outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
    const span = Date.now() - applying;
    t.log(
      `apply of ${neu.setElements.egress_v4} egress elements: ${Date.now() - began} ms, ${span} ms of it from nft -f`,
    );
    const seen: string[] = [];
    for (const delayMs of [0, 0.2, 0.4, 0.6, 0.8, 0.95, 1.1].map((f) => Math.round(f * span))) {
      const s = svc ?? (await start());
      await applyOld(s);
      await applyNewUntilApplying(s);
      await new Promise((r) => setTimeout(r, delayMs));
      await s.killGroup();
      svc = undefined;
      const after = await liveRuleset(t);
      const onDisk = lastGoodOnDisk();
      const restarted = await start();
      // Before serving, the last good ruleset on disk is what the table holds.
      t.is(await live.checksum(), onDisk);
      await liveRuleset(t);
      const status = await restarted.client.getStatus({ deep: true });
      t.true(status.verified, status.verifyMessage);
      t.is(status.activeChecksum, onDisk);
      seen.push(`${delayMs} ms: table ${after}, last good ${onDisk === old.checksum ? "old" : "new"}`);
    }
    t.log(seen.join("; "));
  },
);

test.serial(
  "kill -9 of the service alone while nft commits: the restarted service restores the last good ruleset",
  async (t) => {
    const s = svc ?? (await start());
    await applyOld(s);
    t.is(lastGoodOnDisk(), old.checksum);
    await applyNewUntilApplying(s);
    // Only the node process dies; the nft it started finishes its transaction.
    s.child.kill("SIGKILL");
    await s.exited;
    svc = undefined;
    await waitFor(
      "the orphaned nft commits the new ruleset",
      async () => (await live.checksum()) === neu.checksum,
      {
        timeoutMs: 60_000,
      },
    );
    t.is(await liveRuleset(t), "new");
    t.is(
      lastGoodOnDisk(),
      old.checksum,
      "the new ruleset was never verified, so it is not the last good one",
    );
    const restarted = await start();
    t.is(await liveRuleset(t), "old", "restored before serving");
    const status = await restarted.client.getStatus({ deep: true });
    t.true(status.verified, status.verifyMessage);
    t.is(status.lastGoodChecksum, old.checksum);
    t.true(restarted.logs().some((l) => l.msg === "restored the last good ruleset"));
  },
);
