import { enumOf, field, integer, text } from "@metal-kube/config";
import { DEFAULT_DEEP_VERIFY_MAX_ELEMENTS } from "./applier.js";
import { DEFAULT_TABLE } from "./names.js";
import { DEFAULT_NFT_COMMAND } from "./nft.js";
import { DEFAULT_STATE_DIR } from "./state-store.js";

export const DEFAULT_LISTEN = "0.0.0.0:50053";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9053";
export const FIREWALL_MODES = ["apply", "render-only"] as const;

export const firewallConfigSpec = {
  mode: field("FIREWALL_MODE", enumOf(FIREWALL_MODES), {
    default: "apply",
    description:
      "apply: check and apply rulesets with nft (root); render-only: never run nft, every Apply is a dry run (local development)",
  }),
  stateDir: field("FIREWALL_STATE_DIR", text(), {
    default: DEFAULT_STATE_DIR,
    description: "where the last good ruleset is kept (restored at start)",
  }),
  table: field(
    "FIREWALL_TABLE",
    text().regex(/^[a-z][a-z0-9_]{0,30}$/, { error: "must be a lowercase nft name" }),
    {
      default: DEFAULT_TABLE,
      description: "name of the agent's table (family inet)",
    },
  ),
  nftCommand: field("FIREWALL_NFT", text(), {
    default: DEFAULT_NFT_COMMAND,
    description: "the nft binary",
  }),
  netns: field("FIREWALL_NETNS", text(), {
    optional: true,
    description: "apply inside this named network namespace (ip netns exec) instead of the host's",
  }),
  deepVerifyMaxElements: field("FIREWALL_DEEP_VERIFY_MAX_ELEMENTS", integer(0, 10_000_000), {
    default: String(DEFAULT_DEEP_VERIFY_MAX_ELEMENTS),
    description:
      "up to this many set elements an apply reads the whole table back (every chain and set counted); above, the checksum marker and chain names",
  }),
};
