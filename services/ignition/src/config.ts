// The ignition service's own configuration (the kit adds the shared variables).

import { enumOf, field, integer } from "@metal-kube/config";
import { DEFAULT_GZIP_MIN_BYTES, DEFAULT_SPEC_VERSION } from "./options.js";
import { DEFAULT_MEMO_ENTRIES, DEFAULT_MEMO_MAX_BYTES } from "./render-memo.js";
import { IGNITION_VERSIONS } from "./spec-version.js";

export const DEFAULT_LISTEN = "0.0.0.0:50054";
export const DEFAULT_METRICS_LISTEN = "0.0.0.0:9054";

export const ignitionConfigSpec = {
  defaultSpecVersion: field("IGNITION_SPEC_VERSION", enumOf(IGNITION_VERSIONS), {
    default: DEFAULT_SPEC_VERSION,
    description: "Ignition spec written when a request does not ask for one",
  }),
  gzipMinBytes: field("IGNITION_GZIP_MIN_BYTES", integer(0, 1 << 30), {
    default: String(DEFAULT_GZIP_MIN_BYTES),
    description: "files at least this large are gzip-compressed in 3.x user data when that saves space",
  }),
  memoEntries: field("IGNITION_MEMO_ENTRIES", integer(0, 1_000_000), {
    default: String(DEFAULT_MEMO_ENTRIES),
    description: "identical repeated requests answered from memory (0 turns this off)",
  }),
  memoMaxBytes: field("IGNITION_MEMO_MAX_BYTES", integer(0, 2 ** 40), {
    default: String(DEFAULT_MEMO_MAX_BYTES),
    description: "bytes of encoded responses kept for repeated requests",
  }),
};
