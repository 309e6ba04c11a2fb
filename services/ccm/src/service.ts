// gRPC wiring: the CloudProvider service definition bound to the domain.

import { CloudProviderService } from "@metal-kube/proto/metalstack/ccm/v1/ccm";
import { defineService, type ServiceRegistration } from "@metal-kube/service-kit";
import type { CloudProvider } from "./cloud-provider.js";

export const SERVICE_NAME = "metalstack.ccm.v1.CloudProvider";

export function cloudProviderService(cp: CloudProvider): ServiceRegistration {
  return defineService(CloudProviderService, {
    instanceMetadata: (req, ctx) => cp.instanceMetadata(req, ctx.signal),
    instanceExists: (req, ctx) => cp.instanceExists(req, ctx.signal),
    instanceShutdown: (req, ctx) => cp.instanceShutdown(req, ctx.signal),
    getZone: (req, ctx) => cp.getZone(req, ctx.signal),
    getLoadBalancer: (req, ctx) => cp.getLoadBalancer(req, ctx.signal),
    ensureLoadBalancer: (req, ctx) => cp.ensureLoadBalancer(req, ctx.signal),
    updateLoadBalancer: (req, ctx) => cp.updateLoadBalancer(req, ctx.signal),
    ensureLoadBalancerDeleted: (req, ctx) => cp.ensureLoadBalancerDeleted(req, ctx.signal),
    listLoadBalancerIps: (_req, ctx) => cp.listLoadBalancerIps(ctx.signal),
    renderLoadBalancerConfig: (req, ctx) => cp.renderLoadBalancerConfig(req, ctx.signal),
    syncMachines: (req, ctx) => cp.syncMachines(req, ctx.signal),
    describeCluster: async () => cp.describeCluster(),
    recordNodeEvent: (req) => cp.recordNodeEvent(req),
  });
}
