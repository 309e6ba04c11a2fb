import { isDeepStrictEqual } from "node:util";
import test from "ava";
import fc from "fast-check";
import { applyPatch, createPatch } from "../src/json-patch.js";

test("the patch between two documents turns the first into the second", (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      const out = applyPatch(a, createPatch(a, b));
      if (!isDeepStrictEqual(out, b))
        throw new Error(`${JSON.stringify(a)} -> ${JSON.stringify(b)} gave ${JSON.stringify(out)}`);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test("keys are escaped, equal documents give no operations", (t) => {
  t.deepEqual(createPatch({ a: 1 }, { a: 1 }), []);
  t.deepEqual(createPatch({ m: {} }, { m: { "a/b~c": 1 } }), [{ op: "add", path: "/m/a~1b~0c", value: 1 }]);
  t.deepEqual(createPatch({ l: [1, 2] }, { l: [1, 3] }), [{ op: "replace", path: "/l/1", value: 3 }]);
  t.deepEqual(createPatch({ l: [1] }, { l: [1, 2] }), [{ op: "replace", path: "/l", value: [1, 2] }]);
});
