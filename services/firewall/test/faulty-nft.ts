// An nft runner that fails one step on purpose, with real nft doing the work: a check of a ruleset with
// a broken line (nft's own error), an apply nft refuses, an apply that commits but reports failure, or a
// commit after which another writer empties the forward chain.
import { readFileSync, writeFileSync } from "node:fs";
import type { NftRunner } from "../src/nft.js";

export type Fault = "check" | "apply-refused" | "apply-then-fail" | "verify";

/** The line that gets broken (a full file and a change alike have one there). */
export const BROKEN_LINE = 2;

function broken(path: string): string {
  const lines = readFileSync(path, "utf8").split("\n");
  lines[BROKEN_LINE - 1] = `\tthis is not nftables ${lines[BROKEN_LINE - 1]}`;
  const copy = `${path}.broken`;
  writeFileSync(copy, lines.join("\n"));
  return copy;
}

export function createFaultyNft(real: NftRunner, table = "firewall") {
  let fault: Fault | undefined;
  const runner: NftRunner & { inject(f: Fault): void; pending(): Fault | undefined } = {
    inject: (f) => {
      fault = f;
    },
    pending: () => fault,
    json: (args) => real.json(args),
    async run(args) {
      const isCheck = args[0] === "-c";
      const file = args[args.indexOf("-f") + 1];
      if (fault === "check" && isCheck && file) {
        fault = undefined;
        return real.run(["-c", "-f", broken(file)]);
      }
      if (fault && fault !== "check" && !isCheck && file) {
        const f = fault;
        fault = undefined;
        if (f === "apply-refused") return real.run(["-f", broken(file)]);
        const r = await real.run(args);
        if (f === "apply-then-fail")
          return { ...r, code: 1, stderr: "Error: injected failure after the commit\n" };
        await real.run(["flush", "chain", "inet", table, "forward"]);
        return r;
      }
      return real.run(args);
    },
  };
  return runner;
}
