import test from "ava";
import {
  bool,
  ConfigError,
  describeConfig,
  duration,
  effectiveConfig,
  enumOf,
  field,
  integer,
  list,
  listenAddress,
  parseConfig,
  port,
  text,
  url,
} from "../src/index.js";

const spec = {
  port: field("PORT", port(), { default: "8080", description: "HTTP port" }),
  url: field("METAL_API_URL", url(), { description: "metal-api base URL" }),
  hmac: field("METAL_API_HMAC", text(), { optional: true, secret: true, description: "HMAC key" }),
  mode: field("LOADBALANCER", enumOf(["metallb", "cilium"]), { default: "metallb", description: "LB mode" }),
  timeout: field("TIMEOUT", duration(), { default: "30s", description: "call timeout" }),
  workers: field("WORKERS", integer(1, 64), { default: "4", description: "parallel workers" }),
  debug: field("DEBUG", bool(), { default: "false", description: "debug" }),
  nets: field("NETWORKS", list(), { default: "", description: "networks" }),
  listen: field("GRPC_LISTEN", listenAddress(), { default: "127.0.0.1:50051", description: "listen" }),
};

test("parses and applies defaults", (t) => {
  const c = parseConfig(spec, {
    METAL_API_URL: "http://127.0.0.1:8080",
    TIMEOUT: "1.5s",
    NETWORKS: "a, b,,c",
    DEBUG: "yes",
  });
  t.is(c.port, 8080);
  t.is(c.url, "http://127.0.0.1:8080");
  t.is(c.hmac, undefined);
  t.is(c.mode, "metallb");
  t.is(c.timeout, 1500);
  t.is(c.workers, 4);
  t.true(c.debug);
  t.deepEqual(c.nets, ["a", "b", "c"]);
});

const bad: Array<[string, string, RegExp]> = [
  ["PORT", "http", /PORT: must be an integer from 0 to 65535, got "http"/],
  ["PORT", "70000", /PORT: must be at most 65535/],
  ["METAL_API_URL", "ftp://x", /METAL_API_URL: must be an http\(s\) URL/],
  ["LOADBALANCER", "nginx", /LOADBALANCER: must be one of metallb, cilium, got "nginx"/],
  ["TIMEOUT", "10", /TIMEOUT: must be a duration like 500ms, 30s, 5m or 1h/],
  ["WORKERS", "0", /WORKERS: must be at least 1/],
  ["DEBUG", "maybe", /DEBUG: must be true or false/],
  ["GRPC_LISTEN", "localhost", /GRPC_LISTEN: must be host:port or unix:\/\/\/path\/to.sock/],
];
for (const [variable, value, expected] of bad) {
  test(`a bad ${variable} (${value}) is named in the error`, (t) => {
    const err = t.throws(() => parseConfig(spec, { METAL_API_URL: "http://x", [variable]: value }), {
      instanceOf: ConfigError,
    });
    t.regex(err.message, expected);
    t.deepEqual(
      err.issues.map((i) => i.variable),
      [variable],
    );
  });
}

test("every problem is reported at once; a missing required variable says so", (t) => {
  const err = t.throws(() => parseConfig(spec, { PORT: "x", WORKERS: "100" }), { instanceOf: ConfigError });
  t.deepEqual(
    err.issues.map((i) => i.variable),
    ["PORT", "METAL_API_URL", "WORKERS"],
  );
  t.regex(err.message, /METAL_API_URL: is required \(metal-api base URL\)/);
});

test("secret values are neither echoed in errors nor shown in the effective config", (t) => {
  const secretSpec = { key: field("KEY", integer(), { secret: true, description: "a key" }) };
  const err = t.throws(() => parseConfig(secretSpec, { KEY: "hunter2" }), { instanceOf: ConfigError });
  t.false(err.message.includes("hunter2"));
  const values = parseConfig(spec, { METAL_API_URL: "http://x", METAL_API_HMAC: "s3cret" });
  t.is(effectiveConfig(spec, values).METAL_API_HMAC, "[REDACTED]");
  t.true(describeConfig(spec).includes("| `METAL_API_HMAC` | (unset) | HMAC key (secret) |"));
});
