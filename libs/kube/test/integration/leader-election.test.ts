import { join } from "node:path";
import { startTestbed, type Testbed } from "@metal-kube/e2e";
import { createLogger } from "@metal-kube/logging";
import { type ManagedProcess, spawnProcess } from "@metal-kube/testing";
import test from "ava";
import { createKubeClient } from "../../src/kube-client.js";
import { LEASES } from "../../src/leader-election.js";
import { type Permission, policyRules } from "../../src/permissions.js";
import { sleep } from "../../src/sleep.js";

// Two real adapter processes behind one Lease: kill -9 the leader, the other must take over within the
// lease duration, and their reconciles must never overlap in time.
const NS = "leader-test";
const LEASE_MS = 3000;
const RENEW_MS = 2000;
const RETRY_MS = 500;
const logger = createLogger({ name: "test", level: "error" });
const fixture = join(import.meta.dirname, "../fixtures/leader-adapter.ts");
let bed: Testbed;

test.before(async () => {
  bed = await startTestbed({ nats: false });
});
test.after.always(async () => {
  await bed?.stop();
});

interface Line {
  ev: string;
  t: number;
  key?: string;
}
const lines = (p: ManagedProcess): Line[] =>
  p
    .output()
    .split("\n")
    .filter((l) => l.startsWith('{"ev"'))
    .map((l) => JSON.parse(l) as Line);

async function until(what: string, check: () => boolean, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** [start, end] of each reconcile; one still running when the process died ends at its death. */
function intervals(ls: Line[], diedAt = Number.POSITIVE_INFINITY): [number, number][] {
  const out: [number, number][] = [];
  const open = new Map<string, number>();
  for (const l of ls) {
    if (l.ev === "start") open.set(l.key ?? "", l.t);
    if (l.ev === "end") {
      out.push([open.get(l.key ?? "")!, l.t]);
      open.delete(l.key ?? "");
    }
  }
  for (const s of open.values()) out.push([s, diedAt]);
  return out;
}

test("kill -9 of the leader: the standby takes over within the lease duration; never two reconcile at once", async (t) => {
  const admin = createKubeClient({ kubeconfigPath: bed.kubeconfigPath, logger });
  await admin
    .resource({ group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false })
    .create({ metadata: { name: NS } });
  const cms = admin.resource({ group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" });
  for (let i = 0; i < 5; i++) await cms.create({ metadata: { name: `cm-${i}`, namespace: NS }, data: {} });

  const needed: Permission[] = [
    ...["get", "list", "watch", "patch"].map((verb) => ({ verb, group: "", resource: "configmaps" })),
    ...["get", "list", "watch", "create", "update"].map((verb) => ({
      verb,
      group: LEASES.group,
      resource: "leases",
    })),
  ];
  const kubeconfig = await bed.serviceAccountKubeconfig({
    namespace: NS,
    name: "adapter",
    rules: policyRules(needed),
  });
  const start = (identity: string) =>
    spawnProcess(process.execPath, ["--import", "tsx", fixture], {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        NAMESPACE: NS,
        LEASE: "demo-adapter",
        LEASE_MS: String(LEASE_MS),
        RENEW_MS: String(RENEW_MS),
        RETRY_MS: String(RETRY_MS),
        IDENTITY: identity,
        LOG_LEVEL: "warn",
      },
      keepOutput: 4 << 20,
    });
  const a = start("a");
  const b = start("b");
  try {
    await until(
      "a and b started",
      () => lines(a).some((l) => l.ev === "started") && lines(b).some((l) => l.ev === "started"),
    );
    await until("a leader", () => [a, b].some((p) => lines(p).some((l) => l.ev === "leading")));
    const [leader, standby] = lines(a).some((l) => l.ev === "leading") ? [a, b] : [b, a];
    // Let the leader work through several resyncs while the standby watches.
    await until("leader reconciles", () => lines(leader).filter((l) => l.ev === "end").length >= 20);
    t.false(
      lines(standby).some((l) => l.ev === "start"),
      "the standby does not reconcile",
    );

    const killedAt = Date.now();
    await leader.kill();
    await until("standby leads", () => lines(standby).some((l) => l.ev === "leading"), LEASE_MS * 3);
    const leadingAt = lines(standby).find((l) => l.ev === "leading")!.t;
    const takeover = leadingAt - killedAt;
    t.log(`takeover ${takeover} ms after kill -9 (lease ${LEASE_MS} ms, retry ${RETRY_MS} ms)`);
    // The lease expires at most one lease duration after the kill (the last renewal came before it); the
    // standby, which sees renewals through a watch, acquires at that instant plus one write round trip.
    t.true(
      takeover <= LEASE_MS + 150,
      `took over ${takeover} ms after the kill; lease duration ${LEASE_MS} ms`,
    );
    t.true(
      takeover >= LEASE_MS - RETRY_MS - 100,
      `took over ${takeover} ms after the kill: before the lease could expire`,
    );
    await until("new leader reconciles", () => lines(standby).filter((l) => l.ev === "end").length >= 10);

    // No overlap: every reconcile of the new leader starts after the last one of the dead leader ended.
    const dead = intervals(lines(leader), killedAt);
    const live = intervals(lines(standby));
    const lastDead = Math.max(...dead.map(([, e]) => e));
    const firstLive = Math.min(...live.map(([s]) => s));
    t.true(
      firstLive > lastDead,
      `first reconcile of the new leader at ${firstLive}, last of the old ended ${lastDead}`,
    );
    for (const [s1, e1] of dead)
      for (const [s2, e2] of live) t.false(s1 < e2 && s2 < e1, "overlapping reconciles");

    // The Lease names the new holder and counts the transition.
    const lease = await admin.resource(LEASES).get({ name: "demo-adapter", namespace: NS });
    t.is(lease.spec.holderIdentity, standby === a ? "a" : "b");
    t.true(lease.spec.leaseTransitions >= 1);
  } finally {
    await a.stop();
    await b.stop();
    await admin.close();
  }
});
