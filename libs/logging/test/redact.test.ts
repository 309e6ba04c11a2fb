import { Writable } from "node:stream";
import test from "ava";
import { createLogger, redactSecrets } from "../src/index.js";

test("redactSecrets masks secret-named fields at any depth and keeps the rest", (t) => {
  const out = redactSecrets({
    name: "m1",
    secret: { userData: "#cloud-config", metalAPIHMac: "k", nested: [{ token: "t", ok: 1 }] },
    user_data: "x",
    raw: Buffer.from("abc"),
  });
  t.deepEqual(out, {
    name: "m1",
    secret: "[REDACTED]",
    user_data: "[REDACTED]",
    raw: "<3 bytes>",
  });
  t.deepEqual(redactSecrets({ a: { userData: "u", hmac: "h", keep: "k" } }), {
    a: { userData: "[REDACTED]", hmac: "[REDACTED]", keep: "k" },
  });
});

test("the logger masks secret paths on structured fields", (t) => {
  let written = "";
  const destination = new Writable({
    write(chunk, _enc, cb) {
      written += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ name: "t", destination });
  logger.info({ token: "abc123", req: { userData: "ud-secret", name: "n" } }, "hello");
  t.false(written.includes("abc123"));
  t.false(written.includes("ud-secret"));
  t.true(written.includes('"name":"n"'));
});
