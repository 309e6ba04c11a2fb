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

/** Dotted quad without leading zeros; parsed by hand, it is on the path of every CIDR of every policy. */
function parseV4(s: string): bigint | undefined {
  let value = 0;
  let part = -1;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255 || parts === 4) return undefined;
      value = value * 256 + part;
      parts++;
      part = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined;
      part = Math.max(part, 0) * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  return parts === 4 ? BigInt(value) : undefined;
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
  if (addr.family === 4) {
    // Numbers are exact for IPv4 and cost no allocation per operation.
    const v = Number(addr.value);
    const size = 2 ** (32 - length);
    return { family: 4, address: BigInt(v - (v % size)), length };
  }
  return { family: addr.family, address: addr.value & networkMask(addr.family, length), length };
}

const MASKS: Record<Family, bigint[]> = { 4: [], 6: [] };
for (const f of [4, 6] as const) {
  const bits = BigInt(FAMILY_BITS[f]);
  const all = (1n << bits) - 1n;
  for (let l = 0; l <= FAMILY_BITS[f]; l++) MASKS[f].push(all ^ ((1n << (bits - BigInt(l))) - 1n));
}
/** log2 of a power of two, else undefined (numbers are exact up to 2^52; bigint Maps hash slowly). */
function log2Exact(v: bigint): number | undefined {
  if ((v & (v - 1n)) !== 0n) return undefined;
  if (v <= 1n << 52n) return Math.log2(Number(v));
  return v.toString(2).length - 1;
}

function networkMask(family: Family, length: number): bigint {
  return MASKS[family][length]!;
}

export function prefixInterval(p: Prefix): Interval {
  if (p.family === 4) return { lo: p.address, hi: BigInt(Number(p.address) + 2 ** (32 - p.length) - 1) };
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
  if (family === 4) {
    const n = Number(v);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
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
  if (family === 4) {
    // In numbers: IPv4 fits, and this runs for every element of every set.
    const lo = Number(iv.lo);
    const size = Number(iv.hi) - lo + 1;
    const log = Math.log2(size);
    if (Number.isInteger(log) && lo % size === 0) return `${formatAddress(4, iv.lo)}/${32 - log}`;
    return `${formatAddress(4, iv.lo)}-${formatAddress(4, iv.hi)}`;
  }
  const size = iv.hi - iv.lo + 1n;
  // A prefix block: the size is a power of two and lo is aligned to it.
  const log = log2Exact(size);
  if (log !== undefined && (iv.lo & (size - 1n)) === 0n)
    return `${formatAddress(family, iv.lo)}/${128 - log}`;
  return `${formatAddress(family, iv.lo)}-${formatAddress(family, iv.hi)}`;
}
