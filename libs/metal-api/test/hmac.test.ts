import { execFileSync } from "node:child_process";
import test from "ava";
import { computeHmac, formatHmacDate, hmacHeaders, randomSalt, verifyHmac } from "../src/index.js";

// The reference: openssl computes the same HMAC-SHA256 over date + METHOD + salt, independently of node:crypto.
function openssl(key: string, data: string): string {
  const out = execFileSync("openssl", ["dgst", "-sha256", "-hmac", key], { input: data }).toString();
  return out.trim().split(/\s+/).pop()!;
}

test("headers match an HMAC computed by openssl over date + METHOD + salt", (t) => {
  const now = new Date("2026-03-04T05:06:07.891Z");
  const h = hmacHeaders({
    key: "s3cr3t-edit",
    authType: "Metal-Edit",
    method: "POST",
    now,
    salt: "abcdefghijklmnopqrstuvwx",
  });
  t.is(h["x-date"], "2026-03-04T05:06:07Z");
  t.is(h["x-data-salt"], "abcdefghijklmnopqrstuvwx");
  t.is(
    h.authorization,
    `Metal-Edit ${openssl("s3cr3t-edit", "2026-03-04T05:06:07ZPOSTabcdefghijklmnopqrstuvwx")}`,
  );
});

test("a random salt is 24 ASCII letters and differs per call", (t) => {
  const a = randomSalt();
  const b = randomSalt();
  t.regex(a, /^[A-Za-z]{24}$/);
  t.not(a, b);
  const h = hmacHeaders({ key: "k", authType: "Metal-View", method: "GET" });
  t.regex(h["x-data-salt"]!, /^[A-Za-z]{24}$/);
  t.regex(h["x-date"]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(h.authorization, `Metal-View ${openssl("k", `${h["x-date"]}GET${h["x-data-salt"]}`)}`);
});

const keys = {
  "Metal-View": { key: "view", lifetimeMs: 30_000 },
  "Metal-Edit": { key: "edit", lifetimeMs: 30_000 },
  "Metal-Admin": { key: "admin", lifetimeMs: 90_000 },
};

const sign = (key: string, type: "Metal-View" | "Metal-Edit" | "Metal-Admin", method: string, now: Date) => {
  const h = hmacHeaders({ key, authType: type, method, now });
  return { authorization: h.authorization, date: h["x-date"], salt: h["x-data-salt"] };
};

test("verifyHmac accepts a fresh signature and names the key type", (t) => {
  const now = new Date();
  t.deepEqual(verifyHmac(sign("edit", "Metal-Edit", "POST", now), "POST", keys, now), {
    ok: true,
    authType: "Metal-Edit",
  });
});

test("verifyHmac refuses a wrong key, a wrong method, a stale date, an unknown type and a garbled header", (t) => {
  const now = new Date();
  t.deepEqual(verifyHmac(sign("nope", "Metal-Edit", "POST", now), "POST", keys, now), {
    ok: false,
    reason: "Wrong HMAC found",
  });
  t.deepEqual(verifyHmac(sign("edit", "Metal-Edit", "GET", now), "POST", keys, now), {
    ok: false,
    reason: "Wrong HMAC found",
  });
  const old = new Date(now.getTime() - 31_000);
  const stale = verifyHmac(sign("edit", "Metal-Edit", "POST", old), "POST", keys, now);
  t.false(stale.ok);
  t.regex((stale as { reason: string }).reason, /too old/);
  // The admin key lives longer (90 s), like metal-api's default.
  t.true(verifyHmac(sign("admin", "Metal-Admin", "POST", old), "POST", keys, now).ok);
  t.deepEqual(
    verifyHmac({ authorization: "Metal-Root abc", date: formatHmacDate(now), salt: "x" }, "GET", keys, now),
    {
      ok: false,
      reason: "unknown authtype found",
    },
  );
  t.deepEqual(verifyHmac({ authorization: "Metal-View", date: formatHmacDate(now) }, "GET", keys, now), {
    ok: false,
    reason: "illegal auth found",
  });
  t.deepEqual(verifyHmac({}, "GET", keys, now), { ok: false, reason: "no auth found" });
  const bad = verifyHmac({ ...sign("view", "Metal-View", "GET", now), date: "yesterday" }, "GET", keys, now);
  t.false(bad.ok);
});

test("verifyHmac signs the re-formatted date like Go: fractional seconds in X-Date are dropped", (t) => {
  const now = new Date("2026-03-04T05:06:07.500Z");
  const salt = "abcdefghijklmnopqrstuvwx";
  // A client that signed the raw text with milliseconds fails, one that signed whole seconds passes.
  const raw = "2026-03-04T05:06:07.123Z";
  const signedRaw = `Metal-View ${computeHmac("view", raw, "GET", salt)}`;
  t.false(verifyHmac({ authorization: signedRaw, date: raw, salt }, "GET", keys, now).ok);
  const signedWhole = `Metal-View ${computeHmac("view", "2026-03-04T05:06:07Z", "GET", salt)}`;
  t.true(verifyHmac({ authorization: signedWhole, date: raw, salt }, "GET", keys, now).ok);
});
