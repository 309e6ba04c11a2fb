import test from "ava";
import { backoffDelay, createBackoff } from "../src/backoff.js";

const noJitter = { random: () => 0.5 };

test("delays grow exponentially per key and are capped", (t) => {
  const b = createBackoff({ baseMs: 100, maxMs: 1000, factor: 2, ...noJitter });
  t.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => b.next("a")),
    [100, 200, 400, 800, 1000, 1000],
  );
  t.is(b.failures("a"), 6);
  // Another key starts from the base: backoff is per key.
  t.is(b.next("b"), 100);
});

test("forget resets a key after success", (t) => {
  const b = createBackoff({ baseMs: 50, maxMs: 10_000, ...noJitter });
  b.next("k");
  b.next("k");
  t.is(b.next("k"), 200);
  b.forget("k");
  t.is(b.failures("k"), 0);
  t.is(b.size, 0);
  t.is(b.next("k"), 50);
});

test("jitter stays within its fraction and never exceeds the cap", (t) => {
  const o = { baseMs: 1000, maxMs: 1000, factor: 2, jitter: 0.1 };
  t.is(
    backoffDelay(1, o, () => 0),
    900,
  );
  t.is(
    backoffDelay(1, o, () => 0.999999),
    1000,
  );
  const o2 = { ...o, maxMs: 5000 };
  t.is(
    backoffDelay(1, o2, () => 0.999999),
    1100,
  );
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, o2);
    t.true(d >= 3600 && d <= 4400, `delay ${d}`);
  }
});

test("invalid options fail at construction naming the option", (t) => {
  t.throws(() => createBackoff({ baseMs: -1 }), { message: /BackoffOptions\.baseMs/ });
  t.throws(() => createBackoff({ factor: 0.5 }), { message: /BackoffOptions\.factor/ });
  t.throws(() => createBackoff({ jitter: 2 }), { message: /BackoffOptions\.jitter/ });
  // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong type
  t.throws(() => createBackoff({ maxMs: "5s" as any }), {
    message: /BackoffOptions\.maxMs: must be a non-negative number/,
  });
});
