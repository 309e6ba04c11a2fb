// deploy/extension holds exactly what the adapter's generator makes; the configurations carry Gardener's
// names, rules, selectors and policies.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { parseAllDocuments } from "yaml";
import {
  CONTROLPLANE_WEBHOOK,
  gardenWebhookConfigurations,
  MUTATOR_WEBHOOK,
  renderWebhookManifests,
  SECRETS_VALIDATOR_WEBHOOK,
  seedWebhookConfigurations,
  VALIDATOR_WEBHOOK,
} from "../src/adapter/webhook-configurations.js";

const DEPLOY_DIR = join(import.meta.dirname, "../../../deploy/extension");

test("the committed webhook configurations are the generator's output", (t) => {
  for (const [file, text] of Object.entries(renderWebhookManifests()))
    t.is(
      readFileSync(join(DEPLOY_DIR, file), "utf8"),
      text,
      `deploy/extension/${file} differs: run node --import tsx services/extension/src/adapter/generate-webhooks.ts`,
    );
});

test("every webhook fails closed within 10 s, on CREATE and UPDATE, for v1 reviews", (t) => {
  const all = [
    ...gardenWebhookConfigurations({ url: "https://x" }),
    ...seedWebhookConfigurations({ url: "https://x" }),
  ];
  const hooks = all.flatMap((c) => c.webhooks as Array<Record<string, unknown>>);
  t.deepEqual(
    hooks.map((h) => h.name),
    [VALIDATOR_WEBHOOK, SECRETS_VALIDATOR_WEBHOOK, MUTATOR_WEBHOOK, CONTROLPLANE_WEBHOOK],
  );
  for (const h of hooks) {
    t.like(h, {
      failurePolicy: "Fail",
      timeoutSeconds: 10,
      sideEffects: "None",
      matchPolicy: "Exact",
      admissionReviewVersions: ["v1"],
    });
    for (const r of h.rules as Array<{ operations: string[] }>)
      t.deepEqual(r.operations, ["CREATE", "UPDATE"]);
  }
  t.deepEqual(hooks[0]?.objectSelector, {
    matchLabels: { "provider.extensions.gardener.cloud/metal": "true" },
  });
  t.deepEqual(hooks[1]?.objectSelector, { matchLabels: { "provider.shoot.gardener.cloud/metal": "true" } });
  t.deepEqual(hooks[3]?.namespaceSelector, {
    matchExpressions: [{ key: "shoot.gardener.cloud/provider", operator: "In", values: ["metal"] }],
  });
});

test("a URL target with a CA bundle points every webhook at its path", (t) => {
  const [validating] = gardenWebhookConfigurations({ url: "https://127.0.0.1:9443/", caBundle: "PEM" });
  const cc = ((validating?.webhooks ?? []) as Array<{ clientConfig: Record<string, string> }>).map(
    (w) => w.clientConfig,
  );
  t.deepEqual(cc, [
    { url: "https://127.0.0.1:9443/webhooks/validate", caBundle: Buffer.from("PEM").toString("base64") },
    {
      url: "https://127.0.0.1:9443/webhooks/validate/secrets",
      caBundle: Buffer.from("PEM").toString("base64"),
    },
  ]);
  const docs = parseAllDocuments(readFileSync(join(DEPLOY_DIR, "41-webhooks-seed.yaml"), "utf8")).map((d) =>
    d.toJS(),
  );
  t.is(docs[0].webhooks[0].clientConfig.service.name, "gardener-extension-metal");
});
