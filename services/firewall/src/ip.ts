// IPv4 and IPv6 addresses and prefixes as bigints, so both families go through the same interval code.

export type Family = 4 | 6;

/** Inclusive address interval of one family. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

export interface Prefix {
  family: Family;
  /** The network address (host bits cleared). */
  address: bigint;
  length: number;
}

export const FAMILY_BITS: Record<Family, number> = { 4: 32, 6: 128 };
const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!V4_PART.test(p)) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  // An embedded IPv4 address (::ffff:192.0.2.1) stands for the last two groups.
  if (text.includes(".")) {
    const cut = text.lastIndexOf(":");
    const v4 = parseV4(text.slice(cut + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, cut + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseHalf = (h: string): bigint[] | undefined => {
    if (h === "") return [];
    const out: bigint[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(`0x${g}`));
    }
    return out;
  };
  const head = parseHalf(halves[0]!);
  const tail = halves.length === 2 ? parseHalf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const given = head.length + tail.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return undefined;
  const groups = halves.length === 2 ? [...head, ...new Array<bigint>(8 - given).fill(0n), ...tail] : head;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one (zones and leading zeros are refused). */
export function parseAddress(s: string): { family: Family; value: bigint } | undefined {
  const t = s.trim();
  if (t.includes(":")) {
    const v = parseV6(t);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4(t);
  return v === undefined ? undefined : { family: 4, value: v };
}

/**
 * Parses `address/length` or a bare address (one host). Host bits set below the length are cleared,
 * as Go's net.ParseCIDR does, so policies written for the reference mean the same here.
 */
export function parsePrefix(s: string): Prefix | undefined {
  const t = s.trim();
  const slash = t.indexOf("/");
  const addr = parseAddress(slash < 0 ? t : t.slice(0, slash));
  if (!addr) return undefined;
  const bits = FAMILY_BITS[addr.family];
  let length = bits;
  if (slash >= 0) {
    const l = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l) || Number(l) > bits) return undefined;
    length = Number(l);
  }
  return { family: addr.family, address: addr.value & networkMask(addr.family, length), length };
}

function networkMask(family: Family, length: number): bigint {
  const bits = BigInt(FAMILY_BITS[family]);
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(length))) - 1n);
}

export function prefixInterval(p: Prefix): Interval {
  const size = 1n << BigInt(FAMILY_BITS[p.family] - p.length);
  return { lo: p.address, hi: p.address + size - 1n };
}

export function fullInterval(family: Family): Interval {
  return { lo: 0n, hi: (1n << BigInt(FAMILY_BITS[family])) - 1n };
}

/** True when `inner` lies wholly inside `outer` (same family). */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.length < outer.length) return false;
  return (inner.address & networkMask(outer.family, outer.length)) === outer.address;
}

export function formatAddress(family: Family, v: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: the longest run (>= 2) of zero groups becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function formatPrefix(p: Prefix): string {
  return p.length === FAMILY_BITS[p.family]
    ? formatAddress(p.family, p.address)
    : `${formatAddress(p.family, p.address)}/${p.length}`;
}

/** The nft element for an interval: an address, a prefix when it is one, else `lo-hi`. */
export function formatInterval(family: Family, iv: Interval): string {
  if (iv.lo === iv.hi) return formatAddress(family, iv.lo);
  const size = iv.hi - iv.lo + 1n;
  // A prefix block: the size is a power of two and lo is aligned to it.
  if ((size & (size - 1n)) === 0n && iv.lo % size === 0n) {
    const length = FAMILY_BITS[family] - (size.toString(2).length - 1);
    return `${formatAddress(family, iv.lo)}/${length}`;
  }
  return `${formatAddress(family, iv.lo)}-${formatAddress(family, iv.hi)}`;
}
