import {
  IgnitionRendererService,
  Purpose,
  type RenderRequest,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { codeName, defineService, type ServiceRegistration, toServiceError } from "@metal-kube/service-kit";
import { type EventSink, noopEventSink } from "./events.js";
import type { Renderer } from "./renderer.js";

export interface IgnitionServiceOptions {
  renderer: Renderer;
  events?: EventSink;
}

/** The gRPC face of the renderer: one event per call, success or failure. */
export function createIgnitionService(options: IgnitionServiceOptions): ServiceRegistration {
  const { renderer } = options;
  const events = options.events ?? noopEventSink;
  return defineService(IgnitionRendererService, {
    async render(req: RenderRequest) {
      try {
        const res = renderer.render(req);
        events.emit("rendered", {
          namespace: req.namespace,
          name: req.name,
          type: req.type,
          purpose: req.purpose === Purpose.PURPOSE_RECONCILE ? "reconcile" : "provision",
          specVersion: res.specVersion,
          checksum: res.sha256,
          size: res.userData.length,
          files: req.files.length + res.extensionFiles.length,
          units: req.units.length,
          warnings: res.warnings.length,
        });
        return res;
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
