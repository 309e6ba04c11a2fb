import test from "ava";
import {
  canonicalAddress,
  nextFreeAddress,
  nextFreeChild,
  parsePrefix,
  usableCount,
} from "../src/state/ipam.js";

test("addresses are canonical (RFC 5952 for IPv6)", (t) => {
  t.is(canonicalAddress("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  t.is(canonicalAddress("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
  t.is(canonicalAddress("::"), "::");
  t.is(canonicalAddress("::ffff:10.0.0.1"), "::ffff:a00:1");
  t.is(canonicalAddress("10.0.0.1"), "10.0.0.1");
  t.is(canonicalAddress("10.0.0.256"), undefined);
  t.is(canonicalAddress("010.0.0.1"), undefined);
  t.is(canonicalAddress("1::2::3"), undefined);
  t.is(parsePrefix("10.1.2.3/16")?.text, "10.1.0.0/16");
});

test("next free address skips network and broadcast (IPv4) and taken ones", (t) => {
  const p = parsePrefix("192.0.2.0/30")!;
  const taken = new Set<string>();
  const take = () => {
    const a = nextFreeAddress(p, (x) => taken.has(x));
    if (a) taken.add(a);
    return a;
  };
  t.is(usableCount(p), 2);
  t.deepEqual([take(), take(), take()], ["192.0.2.1", "192.0.2.2", undefined]);
  taken.delete("192.0.2.1");
  t.is(take(), "192.0.2.1");
  const v6 = parsePrefix("2001:db8::/126")!;
  t.is(
    nextFreeAddress(v6, () => false),
    "2001:db8::1",
  );
});

test("child prefixes avoid existing children and stay aligned", (t) => {
  const sup = parsePrefix("10.0.0.0/16")!;
  const taken = [parsePrefix("10.0.0.0/24")!, parsePrefix("10.0.4.0/22")!];
  t.is(nextFreeChild(sup, 22, taken)?.text, "10.0.8.0/22");
  t.is(nextFreeChild(sup, 24, taken)?.text, "10.0.1.0/24");
  t.is(nextFreeChild(parsePrefix("10.0.0.0/23")!, 23, [parsePrefix("10.0.1.0/24")!]), undefined);
  t.is(nextFreeChild(sup, 8, []), undefined);
});
