import { join } from "node:path";
import test from "ava";
import { startServiceProcess } from "../src/index.js";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);

test("ready on a log line: resolves with that line, keeps the logs, stops with SIGTERM", async (t) => {
  const p = await startServiceProcess({ name: "logger", entry: fixture("logs-ready.ts"), ready: "ready" });
  t.teardown(() => p.kill());
  t.is(p.ready.msg, "ready");
  t.is(p.ready.pid, p.proc.child.pid);
  t.deepEqual(
    p.logs().map((l) => l.msg),
    ["starting", "ready"],
    "only JSON lines are logs",
  );
  t.true(p.output().includes("not json: starting"));
  t.is(await p.stop(), 0);
});

test("ready by predicate, with a command and arguments", async (t) => {
  const p = await startServiceProcess({
    name: "by-command",
    command: process.execPath,
    args: ["--import", "tsx", fixture("logs-ready.ts")],
    ready: ({ logs }) => logs().find((l) => l.msg === "ready")?.pid as number | undefined,
  });
  t.teardown(() => p.kill());
  t.is(p.ready, p.proc.child.pid ?? -1);
});

test("a process that exits first fails the start at once, naming it, its exit code and its output's tail", async (t) => {
  const started = Date.now();
  const err = await t.throwsAsync(
    startServiceProcess({
      name: "bad-config",
      entry: fixture("exits-early.ts"),
      ready: "ready",
      timeoutMs: 60_000,
    }),
  );
  t.regex(err?.message ?? "", /^bad-config exited with 2 before it was ready/);
  t.regex(err?.message ?? "", /FIXTURE_SETTING: must be a number/);
  t.true((err?.message.length ?? 0) < 34_000, "only the tail of a long output is quoted");
  t.true(Date.now() - started < 30_000, "no wait for the timeout");
});

test("a process never ready times out naming what it waited for, and is killed", async (t) => {
  const err = await t.throwsAsync(
    startServiceProcess({
      name: "silent",
      entry: fixture("logs-ready.ts"),
      ready: "never logged",
      timeoutMs: 15_000,
    }),
  );
  t.regex(err?.message ?? "", /waiting for silent to log "never logged"/);
  t.regex(err?.message ?? "", /"msg":"ready"/, "its output is quoted");
});

test("exactly one of entry and command", async (t) => {
  await t.throwsAsync(startServiceProcess({ name: "none", ready: "x" }), { instanceOf: TypeError });
});
