// A ruleset that fails its check, an apply nft refuses, an apply that fails after its commit and a
// table changed behind the agent's back: the old ruleset stays (or comes back), proven by the same
// packets before and after. And the elements of timeout sets survive a re-apply.
import { createLogger } from "@metal-kube/logging";
import {
  ApplyOutcome,
  type ApplyRequest,
  ApplyStage,
  type NetworkPolicy,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { createFirewallAgent, type FirewallAgent } from "../src/agent.js";
import { createApplier } from "../src/applier.js";
import { createRecordingEventSink } from "../src/events.js";
import { fqdnSetName } from "../src/names.js";
import { createNftRunner } from "../src/nft.js";
import { createRenderer } from "../src/renderer.js";
import { createStateStore } from "../src/state-store.js";
import { BROKEN_LINE, createFaultyNft, type Fault } from "./faulty-nft.js";
import { ADDR, createTopology, state, type Topology } from "./netns.js";

let topo: Topology;
let agent: FirewallAgent;
let nft: ReturnType<typeof createFaultyNft>;
let dir: ReturnType<typeof makeTempDir>;
const events = createRecordingEventSink();

const web = (ports: string[]): NetworkPolicy => ({
  namespace: "firewall",
  name: "web",
  ingress: [],
  egress: [
    {
      to: [{ cidr: "198.51.100.0/24", except: [] }],
      toFqdns: [],
      ports: ports.map((port) => ({ protocol: "TCP", port, endPort: undefined })),
    },
  ],
});
const GOOD: ApplyRequest = { state: undefined, dryRun: false, strict: true };
const request = (ports: string[], extra: NetworkPolicy[] = []): ApplyRequest => ({
  ...GOOD,
  state: state(topo.firewall(), { policies: [web(ports), ...extra] }),
});

/** What passes: 443 in both rulesets, 80 only in the candidate. */
async function passes(): Promise<{ 443: boolean; 80: boolean }> {
  const c = (port: number) =>
    topo.agents.cluster.call({ op: "connect", host: ADDR.remoteA4, port, timeoutMs: 1200 });
  const [a, b] = await Promise.all([c(443), c(80)]);
  return { 443: a.ok, 80: b.ok };
}

test.before(async () => {
  topo = await createTopology();
  dir = makeTempDir("fw-rollback-");
  nft = createFaultyNft(createNftRunner({ netns: topo.ns.fw }));
  const logger = createLogger({ name: "test", level: "error" });
  agent = createFirewallAgent({
    renderer: createRenderer(),
    applier: createApplier({ nft, table: "firewall", store: createStateStore(dir.path), logger }),
    events,
    logger,
  });
  for (const port of [80, 443]) await topo.agents.outside.call({ op: "listen", proto: "tcp", port });
  const first = await agent.apply(request(["443"]));
  if (first.outcome !== ApplyOutcome.APPLY_OUTCOME_APPLIED) throw new Error(JSON.stringify(first.failure));
});

test.after.always(async () => {
  await topo?.remove();
  dir?.remove();
});

const cases: Array<[Fault, ApplyStage, boolean]> = [
  ["check", ApplyStage.APPLY_STAGE_CHECK, false],
  ["apply-refused", ApplyStage.APPLY_STAGE_APPLY, false],
  ["apply-then-fail", ApplyStage.APPLY_STAGE_APPLY, true],
  ["verify", ApplyStage.APPLY_STAGE_VERIFY, true],
];

for (const [fault, stage, restored] of cases)
  test.serial(
    `a failing ${fault}: the old ruleset stays, proven by packets, and the status says rolled back`,
    async (t) => {
      const good = (await agent.status(false)).lastGoodChecksum;
      t.deepEqual(await passes(), { 443: true, 80: false }, "before");
      nft.inject(fault);
      const res = await agent.apply(request(["443", "80"]));
      t.is(nft.pending(), undefined, "the fault fired");
      t.is(res.outcome, ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK);
      t.is(res.failure?.stage, stage);
      t.is(res.failure?.restored, restored);
      t.is(res.activeChecksum, good);
      t.not(res.checksum, good);
      if (fault === "check" || fault === "apply-refused") {
        t.is(res.failure?.line, BROKEN_LINE, res.failure?.message);
        t.regex(res.failure!.message, /Error: syntax error/);
        t.true(res.failure!.lineText.length > 0);
      }
      if (fault === "verify") t.regex(res.failure!.message, /chain forward has 0 rules, not \d+/);
      t.deepEqual(await passes(), { 443: true, 80: false }, "after: the old ruleset is what filters");
      const status = await agent.status(true);
      t.is(status.lastApply?.outcome, ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK);
      t.is(status.lastApply?.failure?.message, res.failure?.message);
      t.is(status.activeChecksum, good);
      t.true(status.verified, status.verifyMessage);
      const ev = events.events.at(-1)!;
      t.is(ev.action, "rolled-back");
      t.is(ev.data.activeChecksum, good);
    },
  );

test.serial(
  "without a fault the candidate applies and admits port 80: the checks above could fail",
  async (t) => {
    const res = await agent.apply(request(["443", "80"]));
    t.is(res.outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
    t.deepEqual(await passes(), { 443: true, 80: true });
    const again = await agent.apply(request(["443", "80"]));
    t.is(again.outcome, ApplyOutcome.APPLY_OUTCOME_UNCHANGED);
    t.is(events.events.at(-1)?.action, "unchanged");
  },
);

test.serial("elements of toFQDNs sets are carried over when the ruleset is applied again", async (t) => {
  const named: NetworkPolicy = {
    namespace: "firewall",
    name: "by-name",
    ingress: [],
    egress: [
      {
        to: [],
        toFqdns: [{ matchName: "example.com", matchPattern: "" }],
        ports: [{ protocol: "TCP", port: "443", endPort: undefined }],
      },
    ],
  };
  t.is((await agent.apply(request(["443"], [named]))).outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
  const set = fqdnSetName("matchName:example.com", 4);
  const reach = async () =>
    (await topo.agents.cluster.call({ op: "connect", host: ADDR.remoteB4, port: 443, timeoutMs: 1200 })).ok;
  t.false(await reach(), "nothing is resolved yet");
  // What the DNS proxy will do: add the resolved address with its TTL.
  await topo.nft(["add", "element", "inet", "firewall", set, `{ ${ADDR.remoteB4} timeout 1h }`]);
  t.true(await reach());
  // A changed ruleset replaces the table; the element must come along, with its remaining time.
  t.is((await agent.apply(request(["443", "8443"], [named]))).outcome, ApplyOutcome.APPLY_OUTCOME_APPLIED);
  const { stdout } = await topo.nft(["-j", "list", "set", "inet", "firewall", set]);
  const elem = (
    JSON.parse(stdout).nftables as Array<{
      set?: { elem?: Array<{ elem: { val: string; expires: number } }> };
    }>
  ).find((o) => o.set)!.set!.elem;
  t.is(elem?.length, 1);
  t.is(elem?.[0]?.elem.val, ADDR.remoteB4);
  t.true(elem![0]!.elem.expires > 3500 && elem![0]!.elem.expires <= 3600);
  t.true(await reach(), "still reachable after the re-apply");
});
