import { createHash } from "node:crypto";
import { constants, gzipSync } from "node:zlib";

export interface EncodedContents {
  source: string;
  compression?: "gzip";
}

export interface DataUrlEncoderOptions {
  gzipMinBytes: number;
  plainMaxBytes: number;
  gzipCacheEntries: number;
}

export interface DataUrlEncoder {
  /** Encodes bytes as an RFC 2397 data URL; `allowGzip` is false for specs that must stay plain. */
  encode(data: Buffer, allowGzip: boolean): EncodedContents;
}

// Fixed level and strategy keep the compressed bytes (and so the user data checksum) stable.
const GZIP_OPTIONS = { level: 6, memLevel: 8, strategy: constants.Z_DEFAULT_STRATEGY } as const;

/** True for bytes that read well percent-encoded: printable ASCII, tab, CR and LF. */
function isPlainText(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if ((b < 0x20 || b > 0x7e) && b !== 0x0a && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/**
 * Content as a data URL, chosen for size and readability and always the same for the same bytes:
 * small plain text stays readable (`data:,` percent-encoded); large content is gzip-compressed
 * when that saves space (3.x only); everything else is base64.
 */
export function createDataUrlEncoder(options: DataUrlEncoderOptions): DataUrlEncoder {
  // Gardener renders the same files into many OSCs and re-renders unchanged OSCs on every resync,
  // so compressed results are kept by content hash (a small LRU in insertion order).
  const cache = new Map<string, string | null>();

  const gzipBase64 = (data: Buffer): string | null => {
    const key = createHash("sha256").update(data).digest("base64");
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const zipped = gzipSync(data, GZIP_OPTIONS);
    // Not worth it when the compressed form is not clearly smaller.
    const value = zipped.length < data.length * 0.9 ? zipped.toString("base64") : null;
    if (options.gzipCacheEntries > 0) {
      cache.set(key, value);
      if (cache.size > options.gzipCacheEntries) cache.delete(cache.keys().next().value as string);
    }
    return value;
  };

  return {
    encode(data, allowGzip) {
      if (data.length === 0) return { source: "data:," };
      if (allowGzip && data.length >= options.gzipMinBytes) {
        const zipped = gzipBase64(data);
        if (zipped !== null) return { source: `data:;base64,${zipped}`, compression: "gzip" };
      }
      if (data.length <= options.plainMaxBytes && isPlainText(data)) {
        return { source: `data:,${encodeURIComponent(data.toString("latin1"))}` };
      }
      return { source: `data:;base64,${data.toString("base64")}` };
    },
  };
}
