import {
  IgnitionRendererService,
  Purpose,
  type RenderRequest,
  type RenderResponse,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { codeName, defineService, type ServiceRegistration, toServiceError } from "@metal-kube/service-kit";
import { type EventSink, noopEventSink, type RenderedEvent } from "./events.js";
import type { RenderMemo } from "./render-memo.js";
import type { Renderer } from "./renderer.js";

export interface IgnitionServiceOptions {
  renderer: Renderer;
  events?: EventSink;
  /** Answers repeated identical requests from their encoded response (see createRenderMemo). */
  memo?: RenderMemo;
}

const purposeName = (p: Purpose): RenderedEvent["purpose"] =>
  p === Purpose.PURPOSE_RECONCILE ? "reconcile" : "provision";

/** The gRPC face of the renderer: an event per render and per failure (memo repeats emit none). */
export function createIgnitionService(options: IgnitionServiceOptions): ServiceRegistration {
  const { renderer, memo } = options;
  const events = options.events ?? noopEventSink;
  return defineService(memo?.definition ?? IgnitionRendererService, {
    async render(req: RenderRequest): Promise<RenderResponse> {
      const hit = memo?.hit(req);
      // A hit is a byte-identical request answered with the bytes already rendered (and announced) for
      // this OSC: the adapter's resync of an unchanged OSC. Events announce new user data, so a repeat
      // emits none; publishing one per resync cost more CPU than serving the call.
      if (hit) return (memo as RenderMemo).replay(hit);
      try {
        const res = renderer.render(req);
        events.emit("rendered", {
          namespace: req.namespace,
          name: req.name,
          type: req.type,
          purpose: purposeName(req.purpose),
          specVersion: res.specVersion,
          checksum: res.sha256,
          size: res.userData.length,
          files: req.files.length + res.extensionFiles.length,
          units: req.units.length,
          warnings: res.warnings.length,
        });
        return memo ? memo.remember(req, res) : res;
      } catch (err) {
        const e = toServiceError(err);
        events.emit("render-failed", {
          namespace: req.namespace,
          name: req.name,
          type: req.type,
          code: codeName(e.code),
          ...(e.field ? { field: e.field } : {}),
          message: e.message,
        });
        throw err;
      }
    },
  });
}
