import test from "ava";
import fc from "fast-check";
import { createArrayPicker, JsonPickError, type PickShape, pickArray } from "../src/json-pick.js";

/** What pickArray must return: JSON.parse, then keep the shape's keys (nested shapes inside objects). */
function reference(value: unknown, shape: PickShape): unknown {
  const pickObj = (o: Record<string, unknown>, s: PickShape): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (!Object.hasOwn(s, k)) continue;
      const sub = s[k]!;
      out[k] =
        sub !== true && v !== null && typeof v === "object" && !Array.isArray(v)
          ? pickObj(v as Record<string, unknown>, sub)
          : v;
    }
    return out;
  };
  return value === null ? [] : (value as Record<string, unknown>[]).map((o) => pickObj(o, shape));
}

const SHAPE: PickShape = {
  id: true,
  tags: true,
  partition: { id: true },
  allocation: { name: true, project: true, nested: { deep: true } },
  'k"ey': true,
  ünï: true,
};

const keys = fc.constantFrom(
  "id",
  "tags",
  "partition",
  "allocation",
  "name",
  "project",
  "nested",
  "deep",
  'k"ey',
  "ünï",
  "other",
  "i",
);
const leaf = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", minLength: 30, maxLength: 80 }),
  fc.constantFrom('a"b\\"c\\\\', "\\", '"', "x".repeat(40) + '\\"' + "y".repeat(40), "\u2028\u0000"),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(keys, tie("value"), { maxKeys: 6 }),
}));
const machines = fc.oneof(
  fc.array(fc.dictionary(keys, value, { maxKeys: 8 }), { maxLength: 6 }),
  fc.constant(null),
);

test("property: picks exactly what JSON.parse then projection gives, for any array of objects", (t) => {
  fc.assert(
    fc.property(machines, fc.constantFrom(0, 2), (list, indent) => {
      const text = JSON.stringify(list, null, indent);
      t.deepEqual(pickArray(Buffer.from(text), SHAPE), reference(JSON.parse(text), SHAPE));
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test("keys spelled with escapes match; a shape on a non-object value keeps the value", (t) => {
  const text = '[{"\\u0069d":"a","partition":"p-as-string","allocation":null,"tags":["x"]}]';
  t.deepEqual(pickArray(Buffer.from(text), SHAPE), [
    { id: "a", partition: "p-as-string", allocation: null, tags: ["x"] },
  ]);
});

test("metal-api's null list is empty; whitespace around is fine", (t) => {
  t.deepEqual(pickArray(Buffer.from(" null\n"), SHAPE), []);
  t.deepEqual(pickArray(Buffer.from(" [ ] "), SHAPE), []);
});

test("malformed input throws JsonPickError with the byte offset", (t) => {
  const bad: Array<[string, RegExp]> = [
    ["", /unexpected end of JSON at byte 0/],
    ['{"id":1}', /expected an array at byte 0/],
    ["[1]", /expected an object at byte 1/],
    ['[{"id":"a"}', /unexpected end of JSON/],
    ['[{"id":"a" "x":1}]', /expected ',' or '}' at byte 11/],
    ['[{"id" 1}]', /expected ':' at byte 7/],
    ['[{"id":tru}]', /invalid value at byte 7/],
    ['[{"other":{"a":[1,2}', /unexpected end of JSON|unterminated/],
    ['[{"id":"abc', /unterminated string|unexpected end/],
    ['[{"id":"a"}] x', /unexpected data after the JSON value at byte 13/],
    ['[{"id":"a"},]', /expected an object at byte 12/],
  ];
  for (const [text, re] of bad) {
    const err = t.throws(() => pickArray(Buffer.from(text), SHAPE), { instanceOf: JsonPickError }, text);
    t.regex(err?.message ?? "", re, text);
  }
});

test("a Uint8Array view into a larger buffer is read at its own offset", (t) => {
  const whole = Buffer.from('xxxx[{"id":"v","other":[{"id":"no"}]}]yyyy');
  const view = new Uint8Array(whole.buffer, whole.byteOffset + 4, whole.length - 8);
  t.deepEqual(pickArray(view, SHAPE), [{ id: "v" }]);
});

/** Feeds bytes to a streaming picker cut at the given points (any byte, inside UTF-8 sequences too). */
function pickInChunks(bytes: Buffer, cuts: number[], shape: PickShape): unknown[] {
  const p = createArrayPicker(shape);
  let last = 0;
  for (const c of [...new Set(cuts.map((x) => Math.min(x, bytes.length)))].sort((a, b) => a - b)) {
    p.push(bytes.subarray(last, c));
    last = c;
  }
  p.push(bytes.subarray(last));
  return p.end();
}

test("property: chunk boundaries anywhere give the same result as one buffer", (t) => {
  fc.assert(
    fc.property(machines, fc.array(fc.nat(4000), { maxLength: 30 }), (list, cuts) => {
      const bytes = Buffer.from(JSON.stringify(list));
      // Against the JSON text, not the generated value: JSON has no -0.
      t.deepEqual(pickInChunks(bytes, cuts, SHAPE), reference(JSON.parse(bytes.toString()), SHAPE));
    }),
    { numRuns: 1000 },
  );
  const bytes = Buffer.from(JSON.stringify([{ id: "ä€😀", tags: ["x".repeat(100)], other: 12345 }]));
  t.deepEqual(
    pickInChunks(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
      SHAPE,
    ),
    [{ id: "ä€😀", tags: ["x".repeat(100)] }],
    "one byte at a time",
  );
});

test("streaming: malformed input fails with the same offset as one buffer, at the latest on end()", (t) => {
  for (const text of [
    '[{"id":"a" "x":1}]',
    '[{"id":"a"},]',
    '[{"id":"a"}',
    '[{"id":12',
    '[{"id":"a"}] x',
    "nul",
  ]) {
    const bytes = Buffer.from(text);
    const whole = t.throws(() => pickArray(bytes, SHAPE), { instanceOf: JsonPickError });
    const cut = t.throws(() => pickInChunks(bytes, [3, 5, 8, 11], SHAPE), { instanceOf: JsonPickError });
    t.is(cut?.message, whole?.message, text);
  }
});

test("streaming: each element is decoded as soon as its bytes are in, not at the end", (t) => {
  const text = JSON.stringify([{ id: "a", other: "x".repeat(100) }, { id: "b" }, { id: "c" }]);
  const bytes = Buffer.from(text);
  const p = createArrayPicker(SHAPE);
  const secondStarts = text.indexOf('{"id":"b"');
  t.is(p.push(bytes.subarray(0, 20)), 0, "first element still open");
  t.is(p.push(bytes.subarray(20, secondStarts + 4)), 1, "first element decoded, second still open");
  t.is(p.push(bytes.subarray(secondStarts + 4)), 3);
  t.deepEqual(p.end(), [{ id: "a" }, { id: "b" }, { id: "c" }]);
});
