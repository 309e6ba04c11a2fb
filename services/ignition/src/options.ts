import type { IgnitionVersion } from "./spec-version.js";

/** Ignition spec written when a request leaves spec_version unset (what current Ignition reads). */
export const DEFAULT_SPEC_VERSION: IgnitionVersion = "3.3.0";
/** Files at least this large are gzip-compressed in 3.x user data when that makes them smaller. */
export const DEFAULT_GZIP_MIN_BYTES = 4096;
/** Printable text files up to this size stay readable (`data:,` percent-encoding) instead of base64. */
export const DEFAULT_PLAIN_MAX_BYTES = 1024;
/** Compressed contents kept by content hash, so re-rendering an unchanged OSC does not gzip again. */
export const DEFAULT_GZIP_CACHE_ENTRIES = 512;
/** Every violation is collected; at most this many are spelled out in one error message. */
export const DEFAULT_MAX_REPORTED_VIOLATIONS = 10;

export interface RendererOptions {
  defaultSpecVersion?: IgnitionVersion;
  gzipMinBytes?: number;
  plainMaxBytes?: number;
  gzipCacheEntries?: number;
  maxReportedViolations?: number;
}

export type ParsedRendererOptions = Required<RendererOptions>;

export function parseOptions(options: RendererOptions = {}): ParsedRendererOptions {
  const o: ParsedRendererOptions = {
    defaultSpecVersion: options.defaultSpecVersion ?? DEFAULT_SPEC_VERSION,
    gzipMinBytes: options.gzipMinBytes ?? DEFAULT_GZIP_MIN_BYTES,
    plainMaxBytes: options.plainMaxBytes ?? DEFAULT_PLAIN_MAX_BYTES,
    gzipCacheEntries: options.gzipCacheEntries ?? DEFAULT_GZIP_CACHE_ENTRIES,
    maxReportedViolations: options.maxReportedViolations ?? DEFAULT_MAX_REPORTED_VIOLATIONS,
  };
  for (const key of ["gzipMinBytes", "plainMaxBytes", "gzipCacheEntries", "maxReportedViolations"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0)
      throw new RangeError(`${key} must be a non-negative integer`);
  }
  if (o.maxReportedViolations < 1) throw new RangeError("maxReportedViolations must be at least 1");
  return o;
}
