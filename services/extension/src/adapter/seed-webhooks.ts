// The seed's control plane webhook (/controlplane): Deployments and OperatingSystemConfigs of metal shoot
// namespaces, mutated by the service; the objects it asks for are fetched here and sent along.
import type { ContextObject } from "@metal-kube/proto/metalstack/extension/v1/admission";
import {
  type AdmissionRequest,
  type AdmissionResponse,
  allow,
  allowPatched,
  denyError,
} from "./admission-review.js";
import type { ExtensionClients } from "./grpc-client.js";
import type { SeedObjects } from "./seed-objects.js";
import { failureResponse } from "./verdicts.js";
import type { Budget } from "./webhook-server.js";

/** The service asks once for what it needs; a second round that still lacks something is its bug. */
const MAX_ROUNDS = 2;

export interface SeedWebhooks {
  controlplane(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse>;
}

export function createSeedWebhooks(clients: ExtensionClients, seed: SeedObjects): SeedWebhooks {
  const own = (o: unknown) => (o == null ? Buffer.alloc(0) : Buffer.from(JSON.stringify(o)));

  async function rounds<R extends { patch: Uint8Array; needs: ContextObject[] }>(
    req: AdmissionRequest,
    call: (context: ContextObject[]) => Promise<R>,
  ): Promise<AdmissionResponse> {
    let context: ContextObject[] = [];
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const r = await call(context);
      if (r.needs.length === 0) return allowPatched(req.uid, r.patch);
      context = [...context, ...(await seed.fetch(req.namespace ?? "", r.needs))];
    }
    return denyError(req.uid, 500, "extension service kept asking for more context; see its logs");
  }

  return {
    async controlplane(req, budget) {
      if ((req.operation !== "CREATE" && req.operation !== "UPDATE") || !req.object) return allow(req.uid);
      try {
        switch (req.kind.kind) {
          case "Deployment": {
            const deployment = own(req.object);
            return await rounds(req, (context) =>
              clients.mutateDeployment({ deployment, context }, { deadline: budget.deadline }),
            );
          }
          case "OperatingSystemConfig": {
            const osc = own(req.object);
            const oldOsc = own(req.oldObject);
            return await rounds(req, (context) =>
              clients.mutateOperatingSystemConfig({ osc, oldOsc, context }, { deadline: budget.deadline }),
            );
          }
          default:
            return denyError(
              req.uid,
              400,
              `/controlplane handles Deployments and OperatingSystemConfigs, not ${req.kind.kind}`,
            );
        }
      } catch (err) {
        return failureResponse(req.uid, err);
      }
    },
  };
}
