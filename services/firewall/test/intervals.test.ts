import test from "ava";
import fc from "fast-check";
import { partition, subtract, union } from "../src/intervals.js";
import { formatInterval, parseAddress, parsePrefix, prefixInterval } from "../src/ip.js";

const interval = fc
  .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 12 }))
  .map(([lo, len]) => ({ lo: BigInt(lo), hi: BigInt(lo + len) }));
const labeled = fc.array(
  fc.tuple(interval, fc.constantFrom("a", "b", "c", "d")).map(([iv, label]) => ({ ...iv, label })),
  { maxLength: 12 },
);

const covers = (iv: { lo: bigint; hi: bigint }, p: bigint) => iv.lo <= p && p <= iv.hi;

test("partition: disjoint sorted segments whose labels are exactly those covering each point", (t) => {
  fc.assert(
    fc.property(labeled, (items) => {
      const segs = partition(items);
      for (let i = 1; i < segs.length; i++) if (segs[i]!.lo <= segs[i - 1]!.hi) return false;
      for (let p = 0n; p <= 75n; p++) {
        const want = [...new Set(items.filter((it) => covers(it, p)).map((it) => it.label))].sort();
        const seg = segs.find((s) => covers(s, p));
        const got = seg ? [...seg.labels].sort() : [];
        if (want.join() !== got.join()) return false;
      }
      // Neighbours with the same labels are merged.
      for (let i = 1; i < segs.length; i++)
        if (segs[i]!.lo === segs[i - 1]!.hi + 1n && segs[i]!.labels.join() === segs[i - 1]!.labels.join())
          return false;
      return true;
    }),
  );
  t.pass();
});

test("union and subtract agree with point sets", (t) => {
  fc.assert(
    fc.property(fc.array(interval, { maxLength: 8 }), fc.array(interval, { maxLength: 8 }), (a, b) => {
      const u = union(a);
      const d = subtract(a, b);
      for (let p = 0n; p <= 75n; p++) {
        const inA = a.some((iv) => covers(iv, p));
        const inB = b.some((iv) => covers(iv, p));
        if (u.some((iv) => covers(iv, p)) !== inA) return false;
        if (d.some((iv) => covers(iv, p)) !== (inA && !inB)) return false;
      }
      return true;
    }),
  );
  t.pass();
});

test("addresses and prefixes of both families parse and print", (t) => {
  t.deepEqual(parseAddress("::ffff:192.0.2.1"), { family: 6, value: 0xffffc0000201n });
  t.is(parseAddress("192.168.001.1"), undefined, "leading zeros are refused");
  t.is(parseAddress("fe80::1%eth0"), undefined, "zones are refused");
  t.is(parsePrefix("10.0.0.0/33"), undefined);
  const p = parsePrefix("10.1.2.3/8")!;
  t.is(formatInterval(4, prefixInterval(p)), "10.0.0.0/8", "host bits are cleared as Go's ParseCIDR does");
  t.is(formatInterval(6, prefixInterval(parsePrefix("2001:db8::/32")!)), "2001:db8::/32");
  t.is(formatInterval(4, { lo: 10n, hi: 20n }), "0.0.0.10-0.0.0.20");
  t.is(formatInterval(6, prefixInterval(parsePrefix("2001:db8:0:0:1::1")!)), "2001:db8::1:0:0:1");
});
