import test from "ava";
import { createMetalApiClient, MetalApiConfigError, parseOptions } from "../src/index.js";

const configError = (fn: () => unknown, option: string) => {
  const err = (() => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof MetalApiConfigError))
    throw new Error(`expected MetalApiConfigError, got ${String(err)}`);
  if (err.option !== option) throw new Error(`expected option ${option}, got ${err.option}: ${err.message}`);
  return err;
};

test("exactly one of hmac and token", (t) => {
  t.regex(configError(() => parseOptions({ url: "http://x" }), "hmac/token").message, /exactly one/);
  t.regex(
    configError(() => parseOptions({ url: "http://x", hmac: "a", token: "b" }), "hmac/token").message,
    /both/,
  );
  configError(() => createMetalApiClient({ url: "http://x", hmac: "", token: "" }), "hmac/token");
  configError(
    () => parseOptions({ url: "http://x", token: "t", hmacAuthType: "Metal-View" }),
    "hmacAuthType",
  );
  t.is(parseOptions({ url: "http://x", token: "t" }).auth.kind, "token");
  t.deepEqual(parseOptions({ url: "http://x", hmac: "k" }).auth, {
    kind: "hmac",
    key: "k",
    authType: "Metal-Edit",
  });
});

test("url, auth type and numbers are validated with the option named", (t) => {
  configError(() => parseOptions({ url: "ftp://x", hmac: "k" }), "url");
  configError(() => parseOptions({ url: "not a url", hmac: "k" }), "url");
  configError(
    () => parseOptions({ url: "http://x", hmac: "k", hmacAuthType: "Metal-Root" as unknown as "Metal-View" }),
    "hmacAuthType",
  );
  configError(() => parseOptions({ url: "http://x", hmac: "k", timeoutMs: 0 }), "timeoutMs");
  configError(() => parseOptions({ url: "http://x", hmac: "k", retries: -1 }), "retries");
  configError(() => parseOptions({ url: "http://x", hmac: "k", connections: Number.NaN }), "connections");
  const p = parseOptions({ url: "https://api.example/metal/", hmac: "k" });
  t.is(p.origin, "https://api.example");
  t.is(p.basePath, "/metal");
});
