// Unit tests (fakes allowed): which command installs Debian packages for root, for a user with sudo and
// for one without, the update-and-retry path, and the errors a user sees when nothing works.
import test from "ava";
import { ensureDebianCommand } from "../src/binaries.js";
import { DebianInstallError, installDebianPackages } from "../src/debian-packages.js";

interface FakeRunner {
  calls: string[][];
  run: (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<unknown>;
  envs: NodeJS.ProcessEnv[];
}

/** Records every command; `fail` decides per call (by its argv) whether it rejects, with what message. */
function fakeRunner(fail: (argv: string[]) => string | undefined = () => undefined): FakeRunner {
  const calls: string[][] = [];
  const envs: NodeJS.ProcessEnv[] = [];
  return {
    calls,
    envs,
    run: async (cmd, args, env) => {
      const argv = [cmd, ...args];
      calls.push(argv);
      envs.push(env);
      const msg = fail(argv);
      if (msg !== undefined) throw new Error(`${argv.join(" ")} failed (1): ${msg}`);
      return "";
    },
  };
}

const withSudo = async (cmd: string) => cmd === "sudo";
const noCommands = async () => false;
const APT_INSTALL = ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-qq", "--no-install-recommends"];

test("root runs apt-get itself, once, without sudo or update when the install works", async (t) => {
  const f = fakeRunner();
  await installDebianPackages(["etcd-server", "openssl"], { isRoot: true, run: f.run, hasCommand: withSudo });
  t.deepEqual(f.calls, [["apt-get", ...APT_INSTALL, "etcd-server", "openssl"]]);
  t.is(f.envs[0]?.DEBIAN_FRONTEND, "noninteractive");
});

test("a non-root user installs through sudo -n (never a password prompt)", async (t) => {
  const f = fakeRunner();
  await installDebianPackages(["etcd-server"], { isRoot: false, run: f.run, hasCommand: withSudo });
  t.deepEqual(f.calls, [["sudo", "-n", "apt-get", ...APT_INSTALL, "etcd-server"]]);
});

test("a failed install refreshes the package lists and retries, under the same privileges", async (t) => {
  let installs = 0;
  const f = fakeRunner((argv) =>
    argv.includes("install") && installs++ === 0 ? "E: Unable to locate package etcd-server" : undefined,
  );
  await installDebianPackages(["etcd-server"], { isRoot: false, run: f.run, hasCommand: withSudo });
  t.deepEqual(f.calls, [
    ["sudo", "-n", "apt-get", ...APT_INSTALL, "etcd-server"],
    ["sudo", "-n", "apt-get", "-o", "DPkg::Lock::Timeout=300", "update", "-qq"],
    ["sudo", "-n", "apt-get", ...APT_INSTALL, "etcd-server"],
  ]);
});

test("a non-root user without sudo gets an error naming the package and the command, and nothing runs", async (t) => {
  const f = fakeRunner();
  const err = await t.throwsAsync(
    installDebianPackages(["etcd-server"], { isRoot: false, run: f.run, hasCommand: noCommands }),
    { instanceOf: DebianInstallError },
  );
  t.deepEqual(f.calls, []);
  t.regex(
    err.message,
    /could not install Debian package etcd-server: not running as root and sudo is not installed/,
  );
  t.regex(
    err.message,
    /install by hand with: sudo apt-get update && sudo apt-get install -y --no-install-recommends etcd-server$/,
  );
});

test("sudo asking for a password: the error keeps sudo's reason and names the command to run by hand", async (t) => {
  const f = fakeRunner((argv) => (argv[0] === "sudo" ? "sudo: a password is required" : undefined));
  const err = await t.throwsAsync(
    installDebianPackages(["etcd-server"], { isRoot: false, run: f.run, hasCommand: withSudo }),
    { instanceOf: DebianInstallError },
  );
  // Tried, refreshed, gave up at the update: no third attempt behind a refusal.
  t.is(f.calls.length, 2);
  t.regex(err.message, /etcd-server: sudo -n apt-get failed \(.*sudo: a password is required\)/);
  t.regex(err.message, /install by hand with: sudo apt-get update && sudo apt-get install .* etcd-server$/);
});

test("root whose apt-get fails twice gets the command without sudo", async (t) => {
  const f = fakeRunner((argv) => (argv.includes("install") ? "E: Unable to locate package nope" : undefined));
  const err = await t.throwsAsync(
    installDebianPackages(["nope"], { isRoot: true, run: f.run, hasCommand: noCommands }),
    { instanceOf: DebianInstallError },
  );
  t.is(f.calls.length, 3);
  t.regex(err.message, /apt-get failed \(.*Unable to locate package nope\)/);
  t.regex(
    err.message,
    /install by hand with: apt-get update && apt-get install -y --no-install-recommends nope$/,
  );
});

test("ensureDebianCommand installs only when the command is missing, with sudo -n when not root", async (t) => {
  const present = fakeRunner();
  await ensureDebianCommand("etcd", "etcd-server", undefined, {
    isRoot: false,
    run: present.run,
    hasCommand: async () => true,
  });
  t.deepEqual(present.calls, []);

  // The fake install makes the command appear, as apt-get would.
  let installed = false;
  const f = fakeRunner((argv) => {
    if (argv.includes("install")) installed = true;
    return undefined;
  });
  const lines: string[] = [];
  await ensureDebianCommand("metal-kube-fake-etcd", "etcd-server", (l) => lines.push(l), {
    isRoot: false,
    run: f.run,
    hasCommand: async (cmd) => cmd === "sudo" || (cmd === "metal-kube-fake-etcd" && installed),
  });
  t.deepEqual(f.calls, [["sudo", "-n", "apt-get", ...APT_INSTALL, "etcd-server"]]);
  t.true(lines.some((l) => l.includes("metal-kube-fake-etcd missing")));
});

test("ensureDebianCommand without root or sudo fails naming the package and the command", async (t) => {
  const f = fakeRunner();
  const err = await t.throwsAsync(
    ensureDebianCommand("metal-kube-fake-etcd", "etcd-server", undefined, {
      isRoot: false,
      run: f.run,
      hasCommand: noCommands,
    }),
  );
  t.deepEqual(f.calls, []);
  t.regex(err.message, /etcd-server.*sudo apt-get install -y --no-install-recommends etcd-server/);
});

test("ensureDebianCommand reports a package that installs but leaves its command off PATH", async (t) => {
  const f = fakeRunner();
  const err = await t.throwsAsync(
    ensureDebianCommand("metal-kube-fake-etcd", "etcd-server", undefined, {
      isRoot: true,
      run: f.run,
      hasCommand: noCommands,
    }),
  );
  t.is(f.calls.length, 1);
  t.is(err.message, "apt-get installed etcd-server but metal-kube-fake-etcd is still not on PATH");
});
