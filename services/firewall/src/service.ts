// The gRPC face of the agent. A byte-identical repeat of the last Apply that left the table as asked
// (the adapter's reconcile of nothing new) is answered from the live table's marker alone.

import { ApplyOutcome } from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { defineService, type ServiceRegistration } from "@metal-kube/service-kit";
import type { FirewallAgent } from "./agent.js";
import { createApplyMemo } from "./apply-memo.js";

export function createFirewallService(agent: FirewallAgent): ServiceRegistration {
  const memo = createApplyMemo();
  return defineService(memo.definition, {
    render: async (req) => agent.render(req),
    async apply(req) {
      const hit = memo.repeat(req);
      if (hit && !hit.request.dryRun) {
        const same = await agent.repeat(hit.response, hit.request.state?.firewall?.name ?? "");
        if (same) return same;
      }
      const res = await agent.apply(hit ? hit.request : req);
      if (
        !req.dryRun &&
        (res.outcome === ApplyOutcome.APPLY_OUTCOME_APPLIED ||
          res.outcome === ApplyOutcome.APPLY_OUTCOME_UNCHANGED)
      )
        memo.remember(hit ? hit.request : req, res);
      else if (res.outcome === ApplyOutcome.APPLY_OUTCOME_ROLLED_BACK) memo.forget();
      return res;
    },
    getStatus: (req) => agent.status(req.deep),
    listCounters: () => agent.counters(),
  });
}
