// The service as a process over gRPC: Render, Apply, GetStatus, ListCounters, errors, events on NATS,
// counters on /metrics, and the render-only mode `npm start` uses.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import { ApplyOutcome, CounterKind, PolicyState } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir, startNats, waitFor } from "@metal-kube/testing";
import test from "ava";
import { connect, type NatsConnection } from "nats";
import type { FirewallCallError } from "../src/adapter/firewall-client.js";
import { createLiveTable } from "../src/live-table.js";
import { createNftRunner } from "../src/nft.js";
import { egressPolicy, firewallSpec, lbService, port } from "./fixtures/spec.js";
import { type FirewallProcess, startFirewallService } from "./service-process.js";

const run = promisify(execFile);
const ns = `fwt-g-${randomBytes(3).toString("hex")}`;
const dir = makeTempDir("fw-grpc-");
const live = createLiveTable(createNftRunner({ netns: ns }), "firewall");
let nats: Awaited<ReturnType<typeof startNats>>;
let nc: NatsConnection;
let svc: FirewallProcess;
const seen: Array<{ subject: string; data: Record<string, unknown> }> = [];

const STATE = {
  firewall: firewallSpec(),
  policies: [
    egressPolicy("web", [["198.51.100.0/24"]], [port("TCP", "443")]),
    egressPolicy("bad", [["198.51.100.0/24"]], [port("TCP", "443", 80)]),
  ],
  services: [lbService("lb", ["185.1.2.20"])],
};

test.before(async () => {
  await run("ip", ["netns", "add", ns]);
  nats = await startNats();
  nc = await connect({ servers: nats.url });
  const sub = nc.subscribe("metal.firewall.>");
  void (async () => {
    for await (const m of sub) seen.push({ subject: m.subject, data: JSON.parse(m.string()).data });
  })();
  await nc.flush();
  svc = await startFirewallService({ FIREWALL_NETNS: ns, FIREWALL_STATE_DIR: dir.path, NATS_URL: nats.url });
});

test.after.always(async () => {
  svc?.client.close();
  await svc?.stop();
  await nc?.close();
  await nats?.stop();
  await run("ip", ["netns", "del", ns]).catch(() => undefined);
  dir.remove();
});

test.serial("Render has no side effects; Apply applies, GetStatus and ListCounters report it", async (t) => {
  const r = await svc.client.render({ state: STATE, strict: false });
  t.regex(r.ruleset, /^table inet firewall \{\n\}\ndelete table inet firewall\n/);
  t.is(await live.checksum(), undefined, "Render touched nothing");
  t.deepEqual(
    r.policies.map((p) => [p.name, p.state, p.message]),
    [
      ["bad", PolicyState.POLICY_STATE_IGNORED, "egress[0].ports[0].endPort: 80 is less than port 443"],
      ["web", PolicyState.POLICY_STATE_DEPLOYED, ""],
    ],
  );
  const a = await svc.client.apply({ state: STATE, dryRun: false, strict: false });
  t.is(a.outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
  t.is(a.checksum, r.checksum);
  t.is(a.activeChecksum, r.checksum);
  t.is(await live.checksum(), r.checksum);
  const s = await svc.client.getStatus({ deep: true });
  t.like(s, { activeChecksum: r.checksum, lastGoodChecksum: r.checksum, verified: true, renderOnly: false });
  t.is(s.lastApply?.outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
  t.deepEqual(s.summary, r.summary);
  t.deepEqual(s.counters.map((c) => c.name).sort(), [
    "drop_invalid",
    "drop_ratelimit",
    "drop_total",
    "external_in",
    "external_out",
    "internal_in",
    "internal_out",
  ]);
  const c = await svc.client.listCounters({});
  t.is(c.checksum, r.checksum);
  const accept = c.counters.filter((x) => x.kind === CounterKind.COUNTER_KIND_ACCEPT).map((x) => x.comment);
  t.deepEqual(accept.sort(), ["accept traffic for k8s service default/lb", "accept traffic for np web tcp"]);
});

test.serial("a repeated Apply is UNCHANGED; a dry run changes nothing", async (t) => {
  const again = await svc.client.apply({ state: STATE, dryRun: false, strict: false });
  t.is(again.outcome, ApplyOutcome.APPLY_OUTCOME_UNCHANGED);
  const before = await live.checksum();
  const dry = await svc.client.apply({
    state: { ...STATE, policies: [egressPolicy("other", [["203.0.113.0/24"]])] },
    dryRun: true,
    strict: false,
  });
  t.is(dry.outcome, ApplyOutcome.APPLY_OUTCOME_DRY_RUN);
  t.not(dry.checksum, before);
  t.is(await live.checksum(), before);
  t.is((await svc.client.getStatus({ deep: false })).lastUnchangedAt.length > 0, true);
});

test.serial("a repeat after the table was removed behind the service's back applies it again", async (t) => {
  t.is(
    (await svc.client.apply({ state: STATE, dryRun: false, strict: false })).outcome,
    ApplyOutcome.APPLY_OUTCOME_UNCHANGED,
  );
  await run("ip", ["netns", "exec", ns, "/usr/sbin/nft", "delete", "table", "inet", "firewall"]);
  const again = await svc.client.apply({ state: STATE, dryRun: false, strict: false });
  t.is(again.outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
  t.is(await live.checksum(), again.checksum);
});

test.serial("bad input is INVALID_ARGUMENT naming the field, and the table stays", async (t) => {
  const before = await live.checksum();
  const spec = await t.throwsAsync<FirewallCallError>(
    svc.client.apply({
      state: {
        ...STATE,
        firewall: firewallSpec({ egressRules: [{ networkId: "internet", ips: ["nope"] }] }),
      },
      dryRun: false,
      strict: false,
    }),
  );
  t.is(spec?.code, status.INVALID_ARGUMENT);
  t.is(spec?.details, 'state.firewall.egressRules[0].ips[0]: "nope" is not an IP address');
  const strict = await t.throwsAsync<FirewallCallError>(
    svc.client.apply({ state: STATE, dryRun: false, strict: true }),
  );
  t.is(strict?.code, status.INVALID_ARGUMENT);
  t.is(strict?.details, "state.policies[firewall/bad].egress[0].ports[0].endPort: 80 is less than port 443");
  t.is(await live.checksum(), before);
});

test.serial("events applied, unchanged and invalid reach NATS with checksum and counts", async (t) => {
  await waitFor(
    "events",
    () =>
      ["applied", "unchanged", "invalid"].every((a) =>
        seen.some((s) => s.subject === `metal.firewall.ruleset.${a}`),
      ),
    {
      timeoutMs: 20_000,
    },
  );
  const applied = seen.find((s) => s.subject === "metal.firewall.ruleset.applied")!;
  t.like(applied.data, {
    firewall: "fw-test",
    policies: { deployed: 1, ignored: 1 },
    services: { deployed: 1, ignored: 0 },
  });
  t.is(typeof applied.data.checksum, "string");
  t.true((applied.data.rules as number) > 10);
  const invalid = seen
    .filter((s) => s.subject === "metal.firewall.ruleset.invalid")
    .map((s) => s.data.invalid);
  t.deepEqual(invalid[0], [
    {
      kind: "policy",
      namespace: "firewall",
      name: "bad",
      message: "egress[0].ports[0].endPort: 80 is less than port 443",
    },
  ]);
});

test.serial("/metrics has every named counter by comment and the live checksum", async (t) => {
  const body = await (await fetch(`http://${svc.metricsAddress}/metrics`)).text();
  t.regex(
    body,
    /firewall_counter_packets_total\{name="np_web_e0_[0-9a-f]{8}_tcp",comment="accept traffic for np web tcp",kind="accept"[^}]*\} 0/,
  );
  t.regex(body, /firewall_counter_bytes_total\{name="drop_total",comment="dropped by policy",kind="drop"/);
  t.regex(body, new RegExp(`firewall_ruleset_info\\{checksum="${await live.checksum()}"`));
  t.regex(body, /firewall_applies_total\{outcome="applied"[^}]*\} 2/);
});

test("render-only mode never runs nft: every Apply is a dry run", async (t) => {
  const ro = await startFirewallService({
    FIREWALL_MODE: "render-only",
    FIREWALL_NFT: "/nonexistent/nft",
    FIREWALL_STATE_DIR: "/nonexistent/state",
  });
  t.teardown(async () => {
    ro.client.close();
    await ro.stop();
  });
  const a = await ro.client.apply({ state: STATE, dryRun: false, strict: false });
  t.is(a.outcome, ApplyOutcome.APPLY_OUTCOME_DRY_RUN);
  t.is(a.checksum, (await ro.client.render({ state: STATE, strict: false })).checksum);
  const s = await ro.client.getStatus({ deep: false });
  t.true(s.renderOnly);
  t.deepEqual((await ro.client.listCounters({})).counters, []);
});

test("a bad variable stops the service with exit 2 naming it", async (t) => {
  const { startProcess, SERVICE_MAIN } = await import("./service-process.js");
  const p = startProcess(SERVICE_MAIN, {
    FIREWALL_MODE: "sometimes",
    EVENTS_OUTBOX_DIR: makeTempDir("fw-o-").path,
  });
  t.is(await p.exited, 2);
  t.regex(p.output(), /FIREWALL_MODE/);
});
