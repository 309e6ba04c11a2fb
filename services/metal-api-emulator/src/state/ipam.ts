// Minimal IPAM over IPv4 and IPv6 prefixes with BigInt arithmetic: enough for addresses and child prefixes
// of the emulated networks, with go-ipam's rule that IPv4 network and broadcast addresses are never handed out.

export interface Prefix {
  family: 4 | 6;
  base: bigint;
  bits: number;
  text: string;
}

const V4_BITS = 32;
const V6_BITS = 128;

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith("0"))) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split("::").length > 2) return undefined;
  let tail4: bigint | undefined;
  let str = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    str = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [head, tail] = str.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined ? [] : tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || (tail !== undefined && h.length + t.length > 7)) return undefined;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(`0x${g}`);
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parses an address; undefined when it is not one. */
export function parseAddress(s: string): { family: 4 | 6; value: bigint } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = s.includes(":") ? parseV6(s) : undefined;
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

/** Canonical text (RFC 5952 for IPv6), so equal addresses compare equal as strings. */
export function formatAddress(family: 4 | 6, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

export function canonicalAddress(s: string): string | undefined {
  const a = parseAddress(s);
  return a && formatAddress(a.family, a.value);
}

export function parsePrefix(cidr: string): Prefix | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const a = parseAddress(m[1]!);
  const bits = Number(m[2]);
  if (!a || bits > (a.family === 4 ? V4_BITS : V6_BITS)) return undefined;
  const total = a.family === 4 ? V4_BITS : V6_BITS;
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(total - bits);
  const base = a.value & mask;
  return { family: a.family, base, bits, text: `${formatAddress(a.family, base)}/${bits}` };
}

export function prefixSize(p: Prefix): bigint {
  return 1n << BigInt((p.family === 4 ? V4_BITS : V6_BITS) - p.bits);
}

export function prefixContains(p: Prefix, family: 4 | 6, v: bigint): boolean {
  return family === p.family && v >= p.base && v < p.base + prefixSize(p);
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.base < b.base + prefixSize(b) && b.base < a.base + prefixSize(a);
}

/** First and last address that may be handed out (IPv4 skips network and broadcast from /30 up). */
export function usableRange(p: Prefix): [bigint, bigint] {
  const size = prefixSize(p);
  if (p.family === 4 && p.bits <= 30) return [p.base + 1n, p.base + size - 2n];
  if (p.family === 6 && size > 1n) return [p.base + 1n, p.base + size - 1n];
  return [p.base, p.base + size - 1n];
}

export function usableCount(p: Prefix): number {
  const [a, b] = usableRange(p);
  const n = b - a + 1n;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

const hints = new Map<string, bigint>();

/**
 * The first free address of `p` (scanning from a remembered position, so sequential allocation stays
 * O(1)); undefined when the prefix is full.
 */
export function nextFreeAddress(
  p: Prefix,
  isTaken: (addr: string) => boolean,
  maxScan = 1 << 20,
): string | undefined {
  const [first, last] = usableRange(p);
  const span = last - first + 1n;
  let v = hints.get(p.text) ?? first;
  if (v < first || v > last) v = first;
  const limit = span < BigInt(maxScan) ? span : BigInt(maxScan);
  for (let i = 0n; i < limit; i++) {
    const addr = formatAddress(p.family, v);
    v = v === last ? first : v + 1n;
    if (!isTaken(addr)) {
      hints.set(p.text, v);
      return addr;
    }
  }
  return undefined;
}

/** The first child prefix of length `bits` inside `parent` that overlaps none of `taken`. */
export function nextFreeChild(parent: Prefix, bits: number, taken: Prefix[]): Prefix | undefined {
  if (bits < parent.bits || bits > (parent.family === 4 ? V4_BITS : V6_BITS)) return undefined;
  const step = 1n << BigInt((parent.family === 4 ? V4_BITS : V6_BITS) - bits);
  const end = parent.base + prefixSize(parent);
  const sorted = taken.filter((t) => prefixesOverlap(t, parent)).sort((a, b) => (a.base < b.base ? -1 : 1));
  let cand = parent.base;
  while (cand + step <= end) {
    const c: Prefix = {
      family: parent.family,
      base: cand,
      bits,
      text: `${formatAddress(parent.family, cand)}/${bits}`,
    };
    const clash = sorted.find((t) => prefixesOverlap(t, c));
    if (!clash) return c;
    // jump past the clashing prefix, aligned to the child size
    const after = clash.base + prefixSize(clash);
    cand = after % step === 0n ? after : (after / step + 1n) * step;
    if (cand < c.base + step) cand = c.base + step;
  }
  return undefined;
}
