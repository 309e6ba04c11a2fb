// Reads the live table back from the kernel. nft 1.0 loads the whole table for most list commands, so
// the cheap reads (one set, the chain names) are kept apart from the full read-back.

import { MARKER_SET } from "./names.js";
import { NftError, type NftJson, type NftRunner } from "./nft.js";
import type { NftSession } from "./nft-session.js";

export interface LiveCounter {
  name: string;
  comment: string;
  packets: number;
  bytes: number;
}

export interface DeepReadback {
  checksum: string | undefined;
  chainRules: Record<string, number>;
  setElements: Record<string, number>;
}

const objects = (j: NftJson, kind: string) =>
  j.nftables.flatMap((o) => (o[kind] ? [o[kind] as Record<string, unknown>] : []));

const checksumOf = (comment: unknown) =>
  typeof comment === "string" && comment.startsWith("sha256:") ? comment.slice(7) : undefined;

/** `nft -j list ...` that answers undefined when the table or object does not exist. */
async function listOrUndefined(nft: NftRunner, args: string[]): Promise<NftJson | undefined> {
  try {
    return await nft.json(args);
  } catch (err) {
    if (err instanceof NftError && err.notFound) return undefined;
    throw err;
  }
}

/** `session`, when given, answers the marker read of every reconcile without starting nft. */
export function createLiveTable(nft: NftRunner, table: string, session?: NftSession) {
  return {
    /** The checksum the live table carries; undefined when there is no table of ours. */
    async checksum(): Promise<string | undefined> {
      const viaSession = session
        ? await session.query(`list set inet ${table} ${MARKER_SET}`).then(
            (j) => ({ j }),
            () => undefined,
          )
        : undefined;
      // Without a session, or when it failed (it is started again next time), nft is started for it.
      const j = viaSession
        ? viaSession.j
        : await listOrUndefined(nft, ["list", "set", "inet", table, MARKER_SET]);
      return j ? checksumOf(objects(j, "set")[0]?.comment) : undefined;
    },

    /** Elements of one set or map (cheap: only that set is read); undefined when it does not exist. */
    async elementCount(name: string, kind: "set" | "map"): Promise<number | undefined> {
      const j = await listOrUndefined(nft, ["list", kind, "inet", table, name]);
      const s = j ? objects(j, kind)[0] : undefined;
      return s ? (Array.isArray(s.elem) ? s.elem.length : 0) : undefined;
    },

    /** Chain names of the table (cheap: no rules or elements are read). */
    async chains(): Promise<string[]> {
      const j = await nft.json(["list", "chains", "inet"]);
      return objects(j, "chain")
        .filter((c) => c.table === table)
        .map((c) => String(c.name));
    },

    /** Every chain's rule count and every set's element count, with the marker. */
    async deep(): Promise<DeepReadback | undefined> {
      const j = await listOrUndefined(nft, ["list", "table", "inet", table]);
      if (!j) return undefined;
      const chainRules: Record<string, number> = {};
      for (const c of objects(j, "chain")) chainRules[String(c.name)] = 0;
      for (const r of objects(j, "rule"))
        chainRules[String(r.chain)] = (chainRules[String(r.chain)] ?? 0) + 1;
      const setElements: Record<string, number> = {};
      let checksum: string | undefined;
      for (const s of [...objects(j, "set"), ...objects(j, "map")]) {
        setElements[String(s.name)] = Array.isArray(s.elem) ? s.elem.length : 0;
        if (s.name === MARKER_SET) checksum = checksumOf(s.comment);
      }
      return { checksum, chainRules, setElements };
    },

    async counters(): Promise<LiveCounter[]> {
      const j = await listOrUndefined(nft, ["list", "counters", "table", "inet", table]);
      if (!j) return [];
      return objects(j, "counter").map((c) => ({
        name: String(c.name),
        comment: typeof c.comment === "string" ? c.comment : "",
        packets: Number(c.packets ?? 0),
        bytes: Number(c.bytes ?? 0),
      }));
    },

    /**
     * `add element` statements that put back the current elements of the named timeout sets with
     * their remaining time, for sets that exist live (one nft call per set: each reads only its set).
     */
    async carryOver(sets: readonly string[]): Promise<string[]> {
      const out: string[] = [];
      const lists = await Promise.all(
        sets.map((s) => listOrUndefined(nft, ["list", "set", "inet", table, s])),
      );
      sets.forEach((name, i) => {
        const set = lists[i] ? objects(lists[i]!, "set")[0] : undefined;
        const elems = Array.isArray(set?.elem) ? (set.elem as unknown[]) : [];
        const parts: string[] = [];
        for (const e of elems) {
          const el = (e as { elem?: { val?: unknown; expires?: number } }).elem;
          const val = el ? el.val : e;
          if (typeof val !== "string") continue;
          // Elements about to expire are kept for a second rather than dropped early.
          parts.push(el?.expires !== undefined ? `${val} timeout ${Math.max(1, el.expires)}s` : val);
        }
        if (parts.length) out.push(`add element inet ${table} ${name} { ${parts.join(", ")} }`);
      });
      return out;
    },
  };
}

export type LiveTable = ReturnType<typeof createLiveTable>;
