import {
  IgnitionRendererService,
  Purpose,
  type RenderRequest,
  type RenderResponse,
  SpecVersion,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";

/** Encoded responses kept; each is one OSC's user data, so the byte bound matters more. */
export const DEFAULT_MEMO_ENTRIES = 256;
export const DEFAULT_MEMO_MAX_BYTES = 64 * 1024 * 1024;

const MEMO = Symbol("render-memo");

/** Every SAMPLE_STRIDE-th byte goes into a lookup key: ~4,500 bytes of a 280 KiB request. */
const SAMPLE_STRIDE = 64;

/**
 * A cheap lookup key: the length and an FNV-1a hash of a strided sample. Requests with equal keys are
 * told apart by comparing their bytes, so the key only has to make that comparison rare; hashing the
 * whole request with SHA-256 cost a fifth of the server's CPU per call.
 */
export function sampleKey(buf: Buffer): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i += SAMPLE_STRIDE) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  // The last bytes too, so that requests differing only at their end get different keys.
  for (let i = Math.max(0, buf.length - 64); i < buf.length; i++)
    h = Math.imul(h ^ (buf[i] as number), 0x01000193);
  return `${buf.length}:${(h >>> 0).toString(36)}`;
}

export interface MemoEntry {
  /** The request's bytes: a hit is decided by comparing them all, never by a hash alone. */
  requestBytes: Buffer;
  /** The encoded response. */
  bytes: Buffer;
}

interface Tagged {
  [MEMO]?: { key: string; requestBytes?: Buffer; hit?: MemoEntry };
}

/**
 * What a hit's handler returns: serialized as the remembered bytes. A class rather than a literal with
 * a property defined on it, which would cost a dictionary-mode object per call.
 */
class ReplayedResponse implements RenderResponse {
  readonly userData = Buffer.alloc(0);
  readonly specVersion = "";
  readonly sha256 = "";
  readonly extensionFiles = [];
  readonly extensionUnits = [];
  readonly warnings = [];
  constructor(readonly encoded: Buffer) {}
}

/** The stand-in request of a hit: never decoded, so it carries only the memo tag. */
class UndecodedRequest implements RenderRequest {
  readonly namespace = "";
  readonly name = "";
  readonly type = "";
  readonly purpose = Purpose.PURPOSE_UNSPECIFIED;
  readonly files = [];
  readonly units = [];
  readonly containerRuntime = undefined;
  readonly providerConfig = undefined;
  readonly specVersion = SpecVersion.SPEC_VERSION_UNSPECIFIED;
  readonly [MEMO]: Tagged[typeof MEMO];
  constructor(key: string, hit: MemoEntry) {
    this[MEMO] = { key, hit };
  }
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
 * response, skipping decode, render and encode. A hit needs the request's bytes to be equal to the
 * remembered ones, byte for byte, which keeps one tenant from ever being served another's user data.
 */
export function createRenderMemo(options: RenderMemoOptions = {}): RenderMemo {
  const maxEntries = options.maxEntries ?? DEFAULT_MEMO_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_MEMO_MAX_BYTES;
  const entries = new Map<string, MemoEntry>();
  let total = 0;

  const store = (key: string, entry: MemoEntry) => {
    const size = (e: MemoEntry) => e.bytes.length + e.requestBytes.length;
    if (maxEntries === 0 || size(entry) > maxBytes) return;
    const old = entries.get(key);
    if (old) {
      total -= size(old);
      entries.delete(key);
    }
    entries.set(key, entry);
    total += size(entry);
    while (entries.size > maxEntries || total > maxBytes) {
      const [k, e] = entries.entries().next().value as [string, MemoEntry];
      entries.delete(k);
      total -= size(e);
    }
  };

  const base = IgnitionRendererService.render;
  const definition = {
    render: {
      ...base,
      requestDeserialize(buf: Buffer): RenderRequest {
        const key = sampleKey(buf);
        const hit = entries.get(key);
        if (hit?.requestBytes.equals(buf)) {
          // Most recently used goes last. The request is not decoded at all.
          entries.delete(key);
          entries.set(key, hit);
          return new UndecodedRequest(key, hit);
        }
        const req = base.requestDeserialize(buf) as RenderRequest & Tagged;
        // A large message is a buffer of its own (grpc-js joins its chunks into one); a small one may be a
        // view into a shared chunk or pool, which is copied rather than kept alive.
        const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
        req[MEMO] = { key, requestBytes: own ? buf : Buffer.from(buf) };
        return req;
      },
      responseSerialize(res: RenderResponse): Buffer {
        if (res instanceof ReplayedResponse) return res.encoded;
        const bytes = base.responseSerialize(res);
        const tag = (res as RenderResponse & Tagged)[MEMO];
        if (tag?.requestBytes) store(tag.key, { requestBytes: tag.requestBytes, bytes });
        return bytes;
      },
    },
  } as typeof IgnitionRendererService;

  return {
    definition,
    hit: (req) => (req as RenderRequest & Tagged)[MEMO]?.hit,
    remember(req, res) {
      const tag = (req as RenderRequest & Tagged)[MEMO];
      if (tag) Object.defineProperty(res, MEMO, { value: { key: tag.key, requestBytes: tag.requestBytes } });
      return res;
    },
    replay: (entry) => new ReplayedResponse(entry.bytes),
    get size() {
      return entries.size;
    },
    get bytes() {
      return total;
    },
  };
}
