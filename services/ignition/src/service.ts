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

/** The gRPC face of the renderer: one event per call, success or failure. */
export function createIgnitionService(options: IgnitionServiceOptions): ServiceRegistration {
  const { renderer, memo } = options;
  const events = options.events ?? noopEventSink;
  return defineService(memo?.definition ?? IgnitionRendererService, {
    async render(req: RenderRequest): Promise<RenderResponse> {
      const hit = memo?.hit(req);
      if (hit) {
        events.emit("rendered", {
          namespace: hit.request.namespace,
          name: hit.request.name,
          type: hit.request.type,
          purpose: purposeName(hit.request.purpose),
          specVersion: hit.summary.specVersion,
          checksum: hit.summary.sha256,
          size: hit.summary.size,
          files: hit.request.files + hit.summary.extensionFiles,
          units: hit.request.units,
          warnings: hit.summary.warnings.length,
        });
        return (memo as RenderMemo).replay(hit);
      }
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
