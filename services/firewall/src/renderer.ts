// Desired state -> ruleset text, checksum and what became of each policy and Service. Pure: no nft, no
// files. Inputs are put in a canonical order first, so the same state always gives the same bytes.

import {
  type DesiredState,
  type PolicyResult,
  PolicyState,
  type ServiceResult,
} from "@metal-kube/proto/metalstack/firewall/v1/firewall";
import { ServiceError } from "@metal-kube/service-kit";
import { FieldError } from "./field-error.js";
import { type FirewallPlan, planFirewall } from "./firewall-plan.js";
import { fqdnSetName } from "./names.js";
import { compilePolicy, type TrafficRule } from "./policy-rules.js";
import { buildRuleset } from "./ruleset-builder.js";
import type { BuildInput, RulesetExtension } from "./ruleset-model.js";
import { printRuleset, type RenderedRuleset } from "./ruleset-text.js";
import { compileService, type ServiceRule } from "./service-rules.js";

export interface RenderOptions {
  /** Refuse the whole request when any policy or Service is invalid. */
  strict?: boolean;
}

export interface RenderResult extends RenderedRuleset {
  policies: PolicyResult[];
  services: ServiceResult[];
  warnings: string[];
  plan: FirewallPlan;
}

export interface RendererOptions {
  /** nft table name (default `firewall`). */
  table?: string;
  /** Further sets, chains and rules (DNS proxy, IDS, drop log). */
  extensions?: readonly RulesetExtension[];
}

export interface Renderer {
  render(state: DesiredState | undefined, options?: RenderOptions): RenderResult;
}

const byKey = <T extends { namespace: string; name: string }>(a: T, b: T) =>
  a.namespace < b.namespace
    ? -1
    : a.namespace > b.namespace
      ? 1
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0;

export function createRenderer(options: RendererOptions = {}): Renderer {
  return {
    render(state, o = {}) {
      let plan: FirewallPlan;
      try {
        plan = planFirewall(state?.firewall);
      } catch (err) {
        if (err instanceof FieldError) throw ServiceError.invalidArgument(`state.${err.path}`, err.problem);
        throw err;
      }
      const policies: PolicyResult[] = [];
      const rules: TrafficRule[] = [];
      const seenPolicies = new Set<string>();
      for (const p of [...(state?.policies ?? [])].sort(byKey)) {
        const key = `${p.namespace}/${p.name}`;
        const v = seenPolicies.has(key)
          ? { state: "ignored" as const, error: new FieldError("metadata.name", `${key} is listed twice`) }
          : compilePolicy(p, plan.allowed);
        seenPolicies.add(key);
        if (v.state === "ignored") {
          if (o.strict)
            throw ServiceError.invalidArgument(`state.policies[${key}].${v.error.path}`, v.error.problem);
          policies.push({
            namespace: p.namespace,
            name: p.name,
            state: PolicyState.POLICY_STATE_IGNORED,
            message: v.error.message,
          });
          continue;
        }
        rules.push(...v.rules);
        policies.push({
          namespace: p.namespace,
          name: p.name,
          state: PolicyState.POLICY_STATE_DEPLOYED,
          message: "",
        });
      }
      const services: ServiceResult[] = [];
      const serviceRules: ServiceRule[] = [];
      const seenServices = new Set<string>();
      for (const s of [...(state?.services ?? [])].sort(byKey)) {
        const key = `${s.namespace}/${s.name}`;
        const v = seenServices.has(key)
          ? { state: "ignored" as const, error: new FieldError("metadata.name", `${key} is listed twice`) }
          : compileService(s, plan.allowed.ingress);
        seenServices.add(key);
        if (v.state === "ignored") {
          if (o.strict)
            throw ServiceError.invalidArgument(`state.services[${key}].${v.error.path}`, v.error.problem);
          services.push({
            namespace: s.namespace,
            name: s.name,
            state: PolicyState.POLICY_STATE_IGNORED,
            message: v.error.message,
          });
          continue;
        }
        serviceRules.push(v.rule);
        services.push({
          namespace: s.namespace,
          name: s.name,
          state: PolicyState.POLICY_STATE_DEPLOYED,
          message: v.notes.join("; "),
        });
      }
      const selectors = [...new Set(rules.flatMap((r) => r.fqdnSelectors))].sort();
      const input: BuildInput = {
        plan,
        rules,
        services: serviceRules,
        fqdnSets: selectors.map((selector) => ({
          selector,
          sets: { 4: fqdnSetName(selector, 4), 6: fqdnSetName(selector, 6) },
        })),
      };
      const rendered = printRuleset(
        buildRuleset(input, { table: options.table, extensions: options.extensions }),
      );
      return { ...rendered, policies, services, warnings: plan.warnings, plan };
    },
  };
}
