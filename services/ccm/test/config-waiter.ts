// Waiting for the load balancer config the ccm applies, for e2e tests against upstream CRDs: a wait
// fails at once, quoting the apiserver, when the ccm logged a refused object, instead of timing out.

import type { KubeObject } from "@metal-kube/kube";
import type { MachineResponse } from "@metal-kube/metal-api";
import { TAG_PRIMARY_ASN } from "@metal-kube/metal-stack";
import { waitFor } from "@metal-kube/testing";
import type { ExecutionContext } from "ava";

const SYNC_FAILED = "load balancer config sync failed; retrying";

export function configWaiter(logs: () => Array<Record<string, unknown>>) {
  /** Every object the apiserver refused (e.g. against the CRD's schema), as the ccm logged it. */
  const refusals = () => [...new Set(logs().flatMap((l) => (l.msg === SYNC_FAILED ? [String(l.err)] : [])))];
  return {
    refusals,
    noRefusedObjects(t: ExecutionContext) {
      t.deepEqual(refusals(), [], "the apiserver refused a rendered object");
    },
    async waitConfig<T>(
      what: string,
      check: () => Promise<T>,
      { timeoutMs = 15_000 }: { timeoutMs?: number } = {},
    ): Promise<NonNullable<T>> {
      const got = await waitFor(
        what,
        async () => {
          const refused = refusals();
          if (refused.length > 0) return { refused, value: undefined };
          const value = await check();
          return value ? { refused: [], value } : undefined;
        },
        { timeoutMs },
      );
      if (got.refused.length > 0)
        throw new Error(`${what}: the apiserver refused: ${got.refused.join("; ")}`);
      return got.value as NonNullable<T>;
    },
  };
}

/** The machine's primary ASN, from its tag. */
export const asnOf = (m: MachineResponse) =>
  Number(m.tags.find((x) => x.startsWith(`${TAG_PRIMARY_ASN}=`))?.split("=")[1]);

/** The machine's IP in the given (private primary) network. */
export const internalIpOf = (m: MachineResponse, networkId: string) =>
  m.allocation!.networks.find((n) => n.networkid === networkId)!.ips[0]!;

/** A CiliumLoadBalancerIPPool as the e2e tests read it (v2alpha1 and v2 alike). */
export interface CiliumIpPool extends KubeObject {
  spec: { blocks: Array<{ cidr: string }>; disabled: boolean };
}
