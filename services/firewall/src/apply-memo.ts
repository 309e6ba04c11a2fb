// A reconcile of nothing new is the common Apply: the adapter sends the same state every interval. Its
// bytes are compared with those of the last Apply that left the table as asked; a repeat is not decoded
// again (10,000 CIDRs cost milliseconds to decode), only the live table's marker is read.

import {
  type ApplyRequest,
  type ApplyResponse,
  FirewallService,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";

const BYTES = Symbol("request bytes");
const REPEAT = Symbol("repeat of the remembered request");

interface Entry {
  bytes: Buffer;
  request: ApplyRequest;
  response: ApplyResponse;
}
type Tagged = ApplyRequest & { [BYTES]?: Buffer; [REPEAT]?: Entry };

export interface ApplyMemo {
  /** FirewallService with an Apply that tags its requests (and skips decoding a repeat). */
  readonly definition: typeof FirewallService;
  /** The remembered request and answer when `req` is a byte-identical repeat of it. */
  repeat(req: ApplyRequest): { request: ApplyRequest; response: ApplyResponse } | undefined;
  /** Remembers `req` (as received) with the answer that left the table as asked. */
  remember(req: ApplyRequest, response: ApplyResponse): void;
  forget(): void;
}

export function createApplyMemo(): ApplyMemo {
  let last: Entry | undefined;
  const base = FirewallService.apply;
  const definition = {
    ...FirewallService,
    apply: {
      ...base,
      requestDeserialize(buf: Buffer): ApplyRequest {
        if (last?.bytes.equals(buf)) {
          const repeat: Tagged = {
            state: undefined,
            dryRun: last.request.dryRun,
            strict: last.request.strict,
          };
          // The entry itself: another Apply may replace `last` before this one is handled.
          repeat[REPEAT] = last;
          return repeat;
        }
        const req: Tagged = base.requestDeserialize(buf);
        // grpc-js hands a large message over as a buffer of its own; a small one may share a pool.
        req[BYTES] =
          buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? buf : Buffer.from(buf);
        return req;
      },
    },
  } as typeof FirewallService;
  return {
    definition,
    repeat: (req) => (req as Tagged)[REPEAT],
    remember(req, response) {
      const bytes = (req as Tagged)[BYTES];
      if (bytes) last = { bytes, request: req, response };
    },
    forget() {
      last = undefined;
    },
  };
}
