// The last good ruleset on disk: what a restarted agent puts back before it serves. Every write is
// temp file + fsync + rename + directory fsync, so a crash leaves the old or the new file, never half.

import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { RulesetSummary } from "@metal-kube/proto/metalstack/firewall/v1/firewall";

export const DEFAULT_STATE_DIR = "/var/lib/metal-kube/firewall";
const META_FILE = "last-good.json";
const rulesetFile = (checksum: string) => `ruleset-${checksum}.nft`;

export interface LastGood {
  checksum: string;
  /** RFC 3339. */
  appliedAt: string;
  summary: RulesetSummary;
  chainRules: Record<string, number>;
  dynamicSets: string[];
}

export interface StateStore {
  readonly dir: string;
  /** Path of a scratch file for the next check/apply. */
  readonly pendingPath: string;
  load(): { meta: LastGood; text: string } | undefined;
  save(meta: LastGood, text: string): void;
}

function writeAtomic(dir: string, name: string, data: string) {
  const tmp = join(dir, `.${name}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
}

function fsyncDir(dir: string) {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function createStateStore(dir: string = DEFAULT_STATE_DIR): StateStore {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    dir,
    pendingPath: join(dir, "pending.nft"),
    load() {
      let meta: LastGood;
      try {
        meta = JSON.parse(readFileSync(join(dir, META_FILE), "utf8")) as LastGood;
      } catch {
        return undefined;
      }
      return { meta, text: readFileSync(join(dir, rulesetFile(meta.checksum)), "utf8") };
    },
    // The ruleset goes under its checksum first and the metadata naming it second, so a crash between
    // the two still finds the previous pair; older rulesets are removed only after that.
    save(meta, text) {
      writeAtomic(dir, rulesetFile(meta.checksum), text);
      writeAtomic(dir, META_FILE, `${JSON.stringify(meta, null, 2)}\n`);
      fsyncDir(dir);
      for (const f of readdirSync(dir))
        if (f.startsWith("ruleset-") && f !== rulesetFile(meta.checksum))
          rmSync(join(dir, f), { force: true });
    },
  };
}
