// The gRPC face of the agent.

import { FirewallService } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { defineService, type ServiceRegistration } from "@metal-kube/service-kit";
import type { FirewallAgent } from "./agent.js";

export function createFirewallService(agent: FirewallAgent): ServiceRegistration {
  return defineService(FirewallService, {
    render: async (req) => agent.render(req),
    apply: (req) => agent.apply(req),
    getStatus: (req) => agent.status(req.deep),
    listCounters: () => agent.counters(),
  });
}
