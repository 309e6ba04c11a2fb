import { createLogger } from "@metal-kube/logging";
import test from "ava";
import {
  ConfigError,
  describeConfig,
  effectiveConfig,
  enumOf,
  field,
  list,
  loadConfig,
  maskUrlCredentials,
  parseConfig,
  port,
  text,
  url,
} from "../src/index.js";

const PASSWORD = "pw-9f3k2x";
const TOKEN = "tok-7q1zz";

// NATS_URL's schema as the service kit declares it: an http(s) URL or a nats:// one.
const spec = {
  natsUrl: field("NATS_URL", url().or(text().regex(/^nats:\/\/.+/)), {
    default: "nats://127.0.0.1:4222",
    description: "NATS server",
  }),
  metalApi: field("METAL_API_URL", url(), { description: "metal-api base URL" }),
  seeds: field("NATS_SEEDS", list(), { default: "", description: "more NATS servers" }),
  mode: field("MODE", enumOf(["a", "b"]), { default: "a", description: "mode" }),
};

/** Everything pino writes, one JSON line per entry: the test reads what a user's log collector would get. */
function captureLogger() {
  const lines: string[] = [];
  const logger = createLogger({ name: "config-test", destination: { write: (s: string) => lines.push(s) } });
  return { logger, lines };
}

test("the effective config logged at start masks the credentials of URL values, lists included", (t) => {
  const { logger, lines } = captureLogger();
  const env = {
    NATS_URL: `nats://user:${PASSWORD}@nats.example:4222`,
    METAL_API_URL: `https://admin:${PASSWORD}@metal-api.example:8443/v1`,
    NATS_SEEDS: `nats://a:${PASSWORD}@h1:4222, nats://h2:4222,nats://${TOKEN}@h3:4222`,
  };
  const values = loadConfig(spec, { env, logger, exitCode: false });
  // The service itself still gets the credentials it needs to connect.
  t.is(values.natsUrl, env.NATS_URL);

  const entry = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "configuration loaded");
  t.truthy(entry, "the effective config is logged");
  t.deepEqual(entry.config, {
    NATS_URL: "nats://[REDACTED]@nats.example:4222",
    METAL_API_URL: "https://[REDACTED]@metal-api.example:8443/v1",
    NATS_SEEDS: ["nats://[REDACTED]@h1:4222", "nats://h2:4222", "nats://[REDACTED]@h3:4222"],
    MODE: "a",
  });
  const all = lines.join("");
  t.false(all.includes(PASSWORD));
  t.false(all.includes(TOKEN));
  t.false(all.includes("user"), "the user name goes with the password");
});

test("a bad value's echo in the ConfigError masks URL credentials", (t) => {
  const err = t.throws(
    () =>
      parseConfig(spec, {
        METAL_API_URL: `ftp://user:${PASSWORD}@files.example/x`,
        MODE: `http://user:${PASSWORD}@c.example`,
      }),
    { instanceOf: ConfigError },
  );
  t.regex(
    err.message,
    /METAL_API_URL: must be an http\(s\) URL, got "ftp:\/\/\[REDACTED\]@files\.example\/x"/,
  );
  t.regex(err.message, /MODE: must be one of a, b, got "http:\/\/\[REDACTED\]@c\.example"/);
  t.false(err.message.includes(PASSWORD));
  t.false(err.issues.some((i) => i.message.includes(PASSWORD)));
});

test("a long bad value cut at 80 characters shows no start of a password", (t) => {
  // The cut at 80 falls inside the password: masking after the cut would leave the `@` out and show it.
  const longPassword = "P".repeat(120);
  const sized = { p: field("PORT", port(), { description: "port" }) };
  const err = t.throws(() => parseConfig(sized, { PORT: `nats://user:${longPassword}@h:4222` }), {
    instanceOf: ConfigError,
  });
  t.false(err.message.includes("PPP"));
  t.regex(err.message, /PORT: .*got "nats:\/\/\[REDACTED\]@h:4222"/);
});

test("a ConfigError built outside parseConfig masks URLs in its messages too", (t) => {
  const err = new ConfigError([
    { variable: "UPSTREAM", message: `cannot reach nats://u:${PASSWORD}@h:4222` },
  ]);
  t.false(err.message.includes(PASSWORD));
  t.is(err.issues[0]?.message, "cannot reach nats://[REDACTED]@h:4222");
});

test("maskUrlCredentials: odd passwords are masked whole; URLs without credentials are left alone", (t) => {
  t.is(maskUrlCredentials("nats://u:p@ss#w?rd@host:4222"), "nats://[REDACTED]@host:4222");
  t.is(maskUrlCredentials("nats://u:p@a:1,nats://v:q@b:2"), "nats://[REDACTED]@a:1,nats://[REDACTED]@b:2");
  t.is(maskUrlCredentials("nats://a:1,nats://v:q@b:2"), "nats://a:1,nats://[REDACTED]@b:2");
  t.is(maskUrlCredentials("http://127.0.0.1:8080/users/@me"), "http://127.0.0.1:8080/users/@me");
  t.is(maskUrlCredentials("user@example.com"), "user@example.com");
  t.is(maskUrlCredentials("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
});

test("defaults in the configuration reference and plain values in the effective config are masked too", (t) => {
  const withDefault = {
    u: field("UPSTREAM", text(), { default: `http://u:${PASSWORD}@h`, description: "upstream" }),
  };
  t.false(describeConfig(withDefault).includes(PASSWORD));
  const values = parseConfig(withDefault, {});
  t.deepEqual(effectiveConfig(withDefault, values), { UPSTREAM: "http://[REDACTED]@h" });
});
