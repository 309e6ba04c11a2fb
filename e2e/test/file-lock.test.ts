import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@metal-kube/testing";
import test from "ava";
import { withFileLock } from "../src/file-lock.js";

const holder = join(import.meta.dirname, "fixtures", "lock-holder.ts");

function runHolder(lock: string, log: string, holdMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", holder, lock, log, String(holdMs)], {
      stdio: "inherit",
    });
    child.on("exit", (code) => resolve(code));
  });
}

test("processes that take the same lock run one after another, never interleaved", async (t) => {
  const dir = makeTempDir("e2e-lock-");
  t.teardown(() => dir.remove());
  const lock = join(dir.path, "build.lock");
  const log = join(dir.path, "log");
  writeFileSync(log, "");
  const codes = await Promise.all([
    runHolder(lock, log, 400),
    runHolder(lock, log, 400),
    runHolder(lock, log, 400),
  ]);
  t.deepEqual(codes, [0, 0, 0]);
  const lines = readFileSync(log, "utf8").trim().split("\n");
  t.is(lines.length, 6);
  for (let i = 0; i < lines.length; i += 2) {
    const [s, e] = [lines[i]?.split(" "), lines[i + 1]?.split(" ")];
    t.is(s?.[0], "start");
    t.is(e?.[0], "end");
    t.is(s?.[1], e?.[1], "the same process ends before another starts");
  }
  t.false(existsSync(lock), "the lock file is removed after use");
});

test("a lock left by a dead process is taken over", async (t) => {
  const dir = makeTempDir("e2e-lock-");
  t.teardown(() => dir.remove());
  const lock = join(dir.path, "build.lock");
  // The pid of a process that has exited.
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  }).stdout;
  writeFileSync(lock, dead);
  const started = Date.now();
  const r = await withFileLock(lock, async () => "ran", { timeoutMs: 5_000 });
  t.is(r, "ran");
  t.true(Date.now() - started < 5_000);
});

test("a lock held by a live process times out with a message naming the holder", async (t) => {
  const dir = makeTempDir("e2e-lock-");
  t.teardown(() => dir.remove());
  const lock = join(dir.path, "build.lock");
  writeFileSync(lock, String(process.ppid)); // alive for as long as this test runs
  let waitedFor: number | undefined;
  const err = await t.throwsAsync(
    withFileLock(lock, async () => "never", {
      timeoutMs: 300,
      onWait: (pid) => {
        waitedFor = pid;
      },
    }),
  );
  t.regex(err.message, new RegExp(`held by pid ${process.ppid}`));
  t.is(waitedFor, process.ppid);
  t.true(existsSync(lock), "someone else's lock is left alone");
});
