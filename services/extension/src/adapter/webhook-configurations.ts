// The webhook configurations the adapter serves, generated here so that names, rules, selectors,
// failurePolicy and timeouts exist once: deploy/extension holds this generator's output (a test checks
// it), and tests register the same objects pointing at a loopback adapter.
import { stringify } from "yaml";

/** Gardener's names: <webhook>.<provider without "provider-">.extensions.gardener.cloud, and the configurations'. */
export const GARDEN_CONFIGURATION = "gardener-extension-admission-metal";
export const SEED_CONFIGURATION = "gardener-extension-provider-metal";
export const VALIDATOR_WEBHOOK = "validator.admission-metal.extensions.gardener.cloud";
export const SECRETS_VALIDATOR_WEBHOOK = "secrets.validator.admission-metal.extensions.gardener.cloud";
export const MUTATOR_WEBHOOK = "mutator.admission-metal.extensions.gardener.cloud";
export const CONTROLPLANE_WEBHOOK = "controlplane.metal.extensions.gardener.cloud";

export const PATHS = {
  validate: "/webhooks/validate",
  validateSecrets: "/webhooks/validate/secrets",
  mutate: "/webhooks/mutate",
  controlplane: "/controlplane",
} as const;

/** Labels Gardener puts on metal objects: ExtensionLabels on Shoots, profiles and bindings; the binding controllers on Secrets. */
export const PROVIDER_LABEL = "provider.extensions.gardener.cloud/metal";
export const SECRET_PROVIDER_LABEL = "provider.shoot.gardener.cloud/metal";
/** The label of a seed's shoot namespaces. */
export const SHOOT_PROVIDER_NAMESPACE_LABEL = "shoot.gardener.cloud/provider";

export const TIMEOUT_SECONDS = 10;

export type WebhookTarget =
  | { url: string; caBundle?: string }
  | { service: { namespace: string; name: string; port: number }; caBundle?: string };

export type Side = "garden" | "seed";

type Json = Record<string, unknown>;

function clientConfig(t: WebhookTarget, path: string): Json {
  const ca = t.caBundle ? { caBundle: Buffer.from(t.caBundle).toString("base64") } : {};
  if ("url" in t) return { url: `${t.url.replace(/\/$/, "")}${path}`, ...ca };
  return { service: { ...t.service, path }, ...ca };
}

const rule = (apiGroups: string[], apiVersions: string[], resources: string[], scope?: string): Json => ({
  operations: ["CREATE", "UPDATE"],
  apiGroups,
  apiVersions,
  resources,
  ...(scope ? { scope } : {}),
});

function webhook(name: string, t: WebhookTarget, path: string, rules: Json[], selectors: Json): Json {
  return {
    name,
    clientConfig: clientConfig(t, path),
    rules,
    ...selectors,
    failurePolicy: "Fail",
    matchPolicy: "Exact",
    sideEffects: "None",
    timeoutSeconds: TIMEOUT_SECONDS,
    admissionReviewVersions: ["v1"],
  };
}

const labels = {
  "app.kubernetes.io/name": "gardener-extension-metal",
  "app.kubernetes.io/part-of": "metal-kube",
};
const byLabel = (label: string) => ({ objectSelector: { matchLabels: { [label]: "true" } } });

/** The garden's configurations: a ValidatingWebhookConfiguration and a MutatingWebhookConfiguration. */
export function gardenWebhookConfigurations(t: WebhookTarget): Json[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: GARDEN_CONFIGURATION, labels },
      webhooks: [
        webhook(
          VALIDATOR_WEBHOOK,
          t,
          PATHS.validate,
          [
            rule(
              ["core.gardener.cloud"],
              ["v1beta1"],
              ["shoots", "cloudprofiles", "namespacedcloudprofiles", "secretbindings"],
            ),
            rule(["security.gardener.cloud"], ["v1alpha1"], ["credentialsbindings"]),
          ],
          byLabel(PROVIDER_LABEL),
        ),
        webhook(
          SECRETS_VALIDATOR_WEBHOOK,
          t,
          PATHS.validateSecrets,
          [rule([""], ["v1"], ["secrets"])],
          byLabel(SECRET_PROVIDER_LABEL),
        ),
      ],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: GARDEN_CONFIGURATION, labels },
      webhooks: [
        {
          ...webhook(
            MUTATOR_WEBHOOK,
            t,
            PATHS.mutate,
            [rule(["core.gardener.cloud"], ["v1beta1"], ["shoots"])],
            byLabel(PROVIDER_LABEL),
          ),
          reinvocationPolicy: "Never",
        },
      ],
    },
  ];
}

/** The seed's configuration: the control plane webhook for the namespaces of metal shoots. */
export function seedWebhookConfigurations(t: WebhookTarget): Json[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: SEED_CONFIGURATION, labels },
      webhooks: [
        {
          ...webhook(
            CONTROLPLANE_WEBHOOK,
            t,
            PATHS.controlplane,
            [
              rule(["apps"], ["v1"], ["deployments"]),
              rule(["extensions.gardener.cloud"], ["v1alpha1"], ["operatingsystemconfigs"]),
            ],
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: SHOOT_PROVIDER_NAMESPACE_LABEL, operator: "In", values: ["metal"] },
                ],
              },
            },
          ),
          reinvocationPolicy: "Never",
        },
      ],
    },
  ];
}

/** Where the deploy manifests point the webhooks: the Service of deploy/extension/30-deployment.yaml. */
export const DEPLOY_TARGET: WebhookTarget = {
  service: { namespace: "metal-kube-system", name: "gardener-extension-metal", port: 443 },
};

const HEADER = (side: Side) =>
  `# Generated by services/extension/src/adapter/generate-webhooks.ts (the ${side} side); do not edit.\n` +
  "# caBundle: the CA of the adapter's TLS_CERT_FILE, added at install, e.g. with\n" +
  "#   node --import tsx services/extension/src/adapter/generate-webhooks.ts --ca-file ca.crt --stdout\n";

/** The deploy manifests: file name -> YAML. */
export function renderWebhookManifests(t: WebhookTarget = DEPLOY_TARGET): Record<string, string> {
  const yaml = (objs: Json[]) => objs.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
  return {
    "40-webhooks-garden.yaml": HEADER("garden") + yaml(gardenWebhookConfigurations(t)),
    "41-webhooks-seed.yaml": HEADER("seed") + yaml(seedWebhookConfigurations(t)),
  };
}
