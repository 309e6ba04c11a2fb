// The long-lived nft of the marker reads: answers, "not found", fresh answers after the table changed,
// and a new nft after the old one died.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import test from "ava";
import { createNftSession } from "../src/nft-session.js";

const run = promisify(execFile);
const ns = `fwt-s-${randomBytes(3).toString("hex")}`;
const nft = (...args: string[]) => run("ip", ["netns", "exec", ns, "/usr/sbin/nft", ...args]);
const marker = (comment: string) => `add set inet t m { type inet_service; comment "${comment}"; }`;

test.before(async () => {
  await run("ip", ["netns", "add", ns]);
});
test.after.always(async () => {
  await run("ip", ["netns", "del", ns]).catch(() => undefined);
});

test("queries answer in order, see changes, report what does not exist, and survive nft dying", async (t) => {
  const session = createNftSession({ netns: ns });
  t.teardown(() => session.close());
  const comment = async () => {
    const j = await session.query("list set inet t m");
    return (j?.nftables.find((o) => o.set)?.set as { comment?: string } | undefined)?.comment;
  };
  t.is(await comment(), undefined, "no table yet");
  await nft("add", "table", "inet", "t");
  await run("sh", ["-c", `echo '${marker("one")}' | ip netns exec ${ns} /usr/sbin/nft -f -`]);
  const [a, b] = await Promise.all([comment(), session.query("list set inet t nothing")]);
  t.is(a, "one");
  t.is(b, undefined);
  await nft("delete", "set", "inet", "t", "m");
  await run("sh", ["-c", `echo '${marker("two")}' | ip netns exec ${ns} /usr/sbin/nft -f -`]);
  t.is(await comment(), "two", "the session sees the change");
  // Its nft ends: the next query starts a new one.
  const pid = session.pid;
  t.truthy(pid);
  process.kill(pid!, "SIGKILL");
  await new Promise((r) => setTimeout(r, 200));
  t.is(await comment(), "two");
  t.not(session.pid, pid);
});
