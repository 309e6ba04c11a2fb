import { createHash } from "node:crypto";
import {
  IgnitionRendererService,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";

/** Encoded responses kept; each is one OSC's user data, so the byte bound matters more. */
export const DEFAULT_MEMO_ENTRIES = 256;
export const DEFAULT_MEMO_MAX_BYTES = 64 * 1024 * 1024;

const MEMO = Symbol("render-memo");

/** The request fields events and logs use; equal request bytes mean equal fields. */
type RequestMeta = Pick<RenderRequest, "namespace" | "name" | "type" | "purpose" | "specVersion"> & {
  files: number;
  units: number;
};

export interface MemoEntry {
  bytes: Buffer;
  request: RequestMeta;
  /** What events and logs need of the response, without decoding it again. */
  summary: Pick<RenderResponse, "sha256" | "specVersion" | "warnings"> & {
    size: number;
    extensionFiles: number;
  };
}

interface Tagged {
  [MEMO]?: { key: string; hit?: MemoEntry; request?: RequestMeta };
}

export interface RenderMemoOptions {
  maxEntries?: number;
  maxBytes?: number;
}

export interface RenderMemo {
  /** IgnitionRendererService with (de)serializers that consult the memo. */
  readonly definition: typeof IgnitionRendererService;
  /** The response already encoded for a request seen before, or undefined. */
  hit(request: RenderRequest): MemoEntry | undefined;
  /** Marks a fresh response so that its encoding is remembered for the request. */
  remember(request: RenderRequest, response: RenderResponse): RenderResponse;
  /** A stand-in response whose encoding is the remembered bytes. */
  replay(entry: MemoEntry): RenderResponse;
  readonly size: number;
  readonly bytes: number;
}

/**
 * Rendering is deterministic, so identical request bytes always get identical response bytes. The
 * adapter re-renders every unchanged OSC on each resync: those calls are answered from the encoded
 * response, skipping decode, render and encode. Keyed by SHA-256 of the request bytes, which keeps
 * one tenant from ever being served another's user data.
 */
export function createRenderMemo(options: RenderMemoOptions = {}): RenderMemo {
  const maxEntries = options.maxEntries ?? DEFAULT_MEMO_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_MEMO_MAX_BYTES;
  const entries = new Map<string, MemoEntry>();
  let total = 0;
  const REPLAY = Symbol("replay");

  const store = (key: string, entry: MemoEntry) => {
    if (maxEntries === 0 || entry.bytes.length > maxBytes) return;
    const old = entries.get(key);
    if (old) {
      total -= old.bytes.length;
      entries.delete(key);
    }
    entries.set(key, entry);
    total += entry.bytes.length;
    while (entries.size > maxEntries || total > maxBytes) {
      const [k, e] = entries.entries().next().value as [string, MemoEntry];
      entries.delete(k);
      total -= e.bytes.length;
    }
  };

  const base = IgnitionRendererService.render;
  const definition = {
    render: {
      ...base,
      requestDeserialize(buf: Buffer): RenderRequest {
        const key = createHash("sha256").update(buf).digest("base64");
        const hit = entries.get(key);
        if (hit) {
          // Most recently used goes last. The request is not decoded at all: a stand-in carries
          // what events and logs need.
          entries.delete(key);
          entries.set(key, hit);
          const m = hit.request;
          const stub: RenderRequest & Tagged = {
            namespace: m.namespace,
            name: m.name,
            type: m.type,
            purpose: m.purpose,
            files: [],
            units: [],
            containerRuntime: undefined,
            providerConfig: undefined,
            specVersion: m.specVersion,
          };
          stub[MEMO] = { key, hit };
          return stub;
        }
        const req = base.requestDeserialize(buf) as RenderRequest & Tagged;
        req[MEMO] = { key };
        return req;
      },
      responseSerialize(res: RenderResponse): Buffer {
        const replay = (res as RenderResponse & { [REPLAY]?: Buffer })[REPLAY];
        if (replay) return replay;
        const bytes = base.responseSerialize(res);
        const tag = (res as RenderResponse & Tagged)[MEMO];
        if (tag?.request)
          store(tag.key, {
            bytes,
            request: tag.request,
            summary: {
              sha256: res.sha256,
              specVersion: res.specVersion,
              warnings: res.warnings,
              size: res.userData.length,
              extensionFiles: res.extensionFiles.length,
            },
          });
        return bytes;
      },
    },
  } as typeof IgnitionRendererService;

  return {
    definition,
    hit: (req) => (req as RenderRequest & Tagged)[MEMO]?.hit,
    remember(req, res) {
      const key = (req as RenderRequest & Tagged)[MEMO]?.key;
      if (key) {
        const request: RequestMeta = {
          namespace: req.namespace,
          name: req.name,
          type: req.type,
          purpose: req.purpose,
          specVersion: req.specVersion,
          files: req.files.length,
          units: req.units.length,
        };
        Object.defineProperty(res, MEMO, { value: { key, request }, enumerable: false });
      }
      return res;
    },
    replay(entry) {
      const stand: RenderResponse = {
        userData: Buffer.alloc(0),
        specVersion: entry.summary.specVersion,
        sha256: entry.summary.sha256,
        extensionFiles: [],
        extensionUnits: [],
        warnings: entry.summary.warnings,
      };
      Object.defineProperty(stand, REPLAY, { value: entry.bytes, enumerable: false });
      return stand;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return total;
    },
  };
}
