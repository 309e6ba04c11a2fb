import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, waitFor } from "@metal-kube/testing";
import test from "ava";
import { createLineBuffer } from "../src/index.js";

const FIXTURE = join(import.meta.dirname, "fixtures/log-lines.ts");

/** Runs the fixture; returns its stdout once it exits. `pauseMs` leaves the pipe unread that long first. */
function runFixture(env: Record<string, string>, pauseMs = 0) {
  return new Promise<{ code: number | null; lines: Array<Record<string, unknown>> }>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
      env: { ...process.env, LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const chunks: Buffer[] = [];
    child.stdout.pause();
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    setTimeout(() => child.stdout.resume(), pauseMs);
    child.on("close", (code) => {
      const text = Buffer.concat(chunks).toString("utf8");
      resolve({
        code,
        lines: text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      });
    });
  });
}

const indices = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.msg === "line").map((l) => l.i);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test("writes lines in order; a quiet process's last lines arrive within the flush interval", async (t) => {
  const dir = makeTempDir("line-buffer-");
  t.teardown(() => dir.remove());
  const file = join(dir.path, "out.log");
  const buf = createLineBuffer({ fd: openSync(file, "w"), minBytes: 1024, flushMs: 50 });
  for (let i = 0; i < 500; i++) buf.write(`${i}\n`);
  await waitFor("all lines", () => readFileSync(file, "utf8").split("\n").length === 501, {
    timeoutMs: 2000,
  });
  t.deepEqual(readFileSync(file, "utf8").split("\n").slice(0, -1).map(Number), range(500));
  buf.write("last\n");
  await new Promise<void>((resolve) => buf.flush(() => resolve()));
  t.true(readFileSync(file, "utf8").endsWith("499\nlast\n"), "flush(cb) calls back once the line is written");
});

test("a process that exits without flushing, or dies of an uncaught error, still leaves every line", async (t) => {
  for (const end of ["exit", "throw", "flush"]) {
    const r = await runFixture({ LINES: "3000", END: end });
    t.deepEqual(indices(r.lines), range(3000), `END=${end}`);
  }
});

test("a full non-blocking pipe (EAGAIN) loses nothing and keeps the order", async (t) => {
  // 4 MB of lines while the reader waits: far beyond a pipe's 64 KiB.
  const r = await runFixture({ LINES: "20000", PAD: "180", NONBLOCKING: "1", END: "flush" }, 1500);
  t.is(r.code, 0);
  t.deepEqual(indices(r.lines), range(20000));
});

test("beyond its bound the buffer drops lines and says how many", async (t) => {
  const dir = makeTempDir("line-buffer-");
  t.teardown(() => dir.remove());
  const file = join(dir.path, "out.log");
  const buf = createLineBuffer({
    fd: openSync(file, "w"),
    minBytes: 1 << 20,
    maxBuffered: 100,
    flushMs: 10_000,
  });
  let accepted = 0;
  // Ten lines of ten characters fill it exactly.
  for (let i = 0; i < 20; i++) if (buf.write(`line ${String(i).padStart(4, "0")}\n`)) accepted++;
  t.is(accepted, 10);
  buf.flushSync();
  const out = readFileSync(file, "utf8").split("\n").filter(Boolean);
  t.deepEqual(
    out.slice(0, 10),
    range(10).map((i) => `line ${String(i).padStart(4, "0")}`),
  );
  t.like(JSON.parse(out[10] as string), { msg: "log lines dropped", dropped: 10 });
});
