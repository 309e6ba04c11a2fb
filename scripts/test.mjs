#!/usr/bin/env node
// The whole suite: static checks (types, lint/format, buf lint, buf breaking), Go module tests, then every
// ava test. Each static check counts as one test. Prints `N passed, N failed` alone on the last line and
// exits non-zero on any failure, because CI reads that line and ava does not print it.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const env = { ...process.env, PATH: `${BIN}:${process.env.PATH}:/usr/local/go/bin:/usr/sbin:/sbin` };
const only = process.argv.slice(2); // optional ava file globs, to run a part of the suite
/** The whole run fails when no test reports for this long. */
const STALL_MS = 8 * 60_000;

let passed = 0;
let failed = 0;
const failures = [];

function check(name, cmd, args, opts = {}) {
  const started = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env, stdio: "inherit" });
  const ok = r.status === 0;
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${ok ? "ok" : "not ok"} - ${name} (${secs}s)\n`);
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  return ok;
}

function hasCommit(ref) {
  return (
    spawnSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: ROOT }).status === 0
  );
}

/**
 * Makes HEAD~1 (the previous commit of main, which buf breaking compares against) present. CI checkouts are
 * often shallow (depth 1), so a shallow clone fetches one more commit from its origin first. Returns
 * undefined when HEAD~1 is there, else why not, in words.
 */
function ensurePreviousCommit() {
  if (hasCommit("HEAD~1")) return undefined;
  const git = (args) =>
    spawnSync("git", args, {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
      // Never wait for a password nobody will type; a fetch that needs one fails and says so.
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
  if (git(["rev-parse", "--is-shallow-repository"]).stdout?.trim() !== "true")
    return "HEAD has no parent commit (the first commit of the repository)";
  const origin = git(["remote", "get-url", "origin"]);
  if (origin.status !== 0)
    return "HEAD~1 is not in this shallow clone and it has no origin remote to fetch it from";
  process.stdout.write(`\n== shallow clone: fetching one more commit from origin for buf breaking\n`);
  const fetch = git(["fetch", "--quiet", "--deepen=1", "origin"]);
  if (hasCommit("HEAD~1")) return undefined;
  // git's first line names the cause ("fatal: ... does not appear to be a git repository"); the rest is advice.
  const cause = fetch.error?.message ?? (fetch.stderr ?? "").trim().split("\n")[0] ?? "";
  return `HEAD~1 is not in this shallow clone and \`git fetch --deepen=1 origin\` did not bring it (${cause || `exit ${fetch.status}`})`;
}

function goModules() {
  const found = [];
  const walk = (dir, depth) => {
    if (depth > 3) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === "node_modules" || e.name.startsWith(".")) continue;
      const d = join(dir, e.name);
      if (existsSync(join(d, "go.mod"))) found.push(d);
      else walk(d, depth + 1);
    }
  };
  walk(join(ROOT, "services"), 0);
  return found;
}

/** Runs ava with the TAP reporter, echoing its output and counting `ok` / `not ok` lines. */
function runAva() {
  return new Promise((resolve) => {
    process.stdout.write("\n== ava\n");
    const child = spawn(join(BIN, "ava"), ["--tap", ...only], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buf = "";
    let sawPlan = false;
    let lastOutput = Date.now();
    let stalled = false;
    // ava's own timeout resets on any test result; a worker stuck in a hook can still hang the run forever.
    const watchdog = setInterval(() => {
      if (Date.now() - lastOutput < STALL_MS) return;
      stalled = true;
      process.stdout.write(`\n# no test output for ${STALL_MS / 60_000} minutes: stopping ava\n`);
      child.kill("SIGINT");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    }, 10_000);
    child.stdout.on("data", (chunk) => {
      lastOutput = Date.now();
      process.stdout.write(chunk);
      buf += chunk.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (/^ok \d+/.test(line)) passed++;
        else if (/^not ok \d+/.test(line)) {
          // A skipped or todo test is not a failure.
          if (/# (SKIP|TODO)/.test(line)) continue;
          failed++;
          failures.push(line.replace(/^not ok \d+ - /, ""));
        } else if (/^1\.\.\d+/.test(line)) sawPlan = true;
        nl = buf.indexOf("\n");
      }
    });
    child.on("close", (code) => {
      clearInterval(watchdog);
      if (stalled) {
        failed++;
        failures.push("ava stalled (a test or hook never finished)");
      }
      if (code !== 0 && failures.length === 0) {
        failed++;
        failures.push(`ava exited with ${code}${sawPlan ? "" : " before finishing"}`);
      }
      resolve();
    });
  });
}

if (only.length === 0) {
  check("typecheck (tsc --noEmit)", join(BIN, "tsc"), ["--noEmit", "-p", "tsconfig.json"]);
  check("lint and format (biome check)", join(BIN, "biome"), ["check", "."]);
  check("buf lint", join(BIN, "buf"), ["lint"]);
  // Against the previous commit of main; without it (no parent, or a fetch that failed) the check cannot
  // compare: it is skipped, counted neither way, and the line says why.
  const noPrevious = ensurePreviousCommit();
  if (noPrevious === undefined)
    check("buf breaking (against HEAD~1)", join(BIN, "buf"), ["breaking", "--against", ".git#ref=HEAD~1"]);
  else process.stdout.write(`\n== buf breaking skipped: ${noPrevious}\n`);
  for (const mod of goModules()) {
    const rel = mod.slice(ROOT.length + 1);
    check(`go vet + test (${rel})`, "go", ["test", "./..."], { cwd: mod });
  }
}
await runAva();

if (failures.length) {
  process.stdout.write("\nfailed:\n");
  for (const f of failures) process.stdout.write(`  - ${f}\n`);
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
