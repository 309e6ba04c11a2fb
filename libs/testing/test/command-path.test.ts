import { existsSync } from "node:fs";
import test from "ava";
import { commandPath } from "../src/index.js";

// `npm test` installs Debian's nats-server (in /usr/sbin) before any test runs.
test("a Debian daemon off PATH is found in its sbin dir; on PATH or unknown, the name stays", (t) => {
  t.true(existsSync("/usr/sbin/nats-server"), "nats-server is installed where Debian puts it");
  t.is(commandPath("nats-server", "/nonexistent:/usr/bin"), "/usr/sbin/nats-server");
  t.is(commandPath("nats-server", "/usr/bin:/usr/sbin"), "nats-server");
  t.is(commandPath("no-such-command-here", "/usr/bin"), "no-such-command-here");
});
