// Destination ports of a rule: per protocol either every port or a union of ranges.

export type Protocol = "tcp" | "udp" | "sctp";
export const PROTOCOLS: readonly Protocol[] = ["tcp", "udp", "sctp"];

/** Ranges are inclusive, sorted and merged; "all" is every port of that protocol. */
export type PortRanges = "all" | Array<[number, number]>;

/** What a rule matches beyond addresses: every protocol and port, or ports per protocol. */
export type PortSelection = { kind: "any" } | { kind: "ports"; byProtocol: Map<Protocol, PortRanges> };

/** Reads a protocol as Kubernetes writes it (TCP, UDP, SCTP; empty = TCP); undefined when unknown. */
export function parseProtocol(p: string): Protocol | undefined {
  const v = p.trim().toLowerCase();
  if (v === "") return "tcp";
  return (PROTOCOLS as readonly string[]).includes(v) ? (v as Protocol) : undefined;
}

/** Collects port ranges per protocol, merging overlaps, in protocol order. */
export function createPortCollector() {
  const byProtocol = new Map<Protocol, PortRanges>();
  return {
    add(proto: Protocol, range: [number, number] | "all") {
      const cur = byProtocol.get(proto);
      if (cur === "all") return;
      if (range === "all") byProtocol.set(proto, "all");
      else byProtocol.set(proto, [...(cur ?? []), range]);
    },
    result(): PortSelection {
      const sorted = new Map<Protocol, PortRanges>();
      for (const proto of PROTOCOLS) {
        const r = byProtocol.get(proto);
        if (r === undefined) continue;
        sorted.set(proto, r === "all" ? "all" : mergeRanges(r));
      }
      return { kind: "ports", byProtocol: sorted };
    },
  };
}

export function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

export function formatPortRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(", ");
}
