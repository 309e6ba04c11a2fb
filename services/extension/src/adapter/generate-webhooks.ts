// Writes the webhook configurations into deploy/extension (or prints them for another target):
//   node --import tsx services/extension/src/adapter/generate-webhooks.ts
//   ... --url https://extension.example.com --ca-file ca.crt --stdout
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEPLOY_TARGET, renderWebhookManifests, type WebhookTarget } from "./webhook-configurations.js";

export const DEPLOY_DIR = join(import.meta.dirname, "../../../../deploy/extension");

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "ca-file": { type: "string" },
    stdout: { type: "boolean", default: false },
  },
});
const caBundle = values["ca-file"] ? readFileSync(values["ca-file"], "utf8") : undefined;
const target: WebhookTarget = values.url ? { url: values.url, caBundle } : { ...DEPLOY_TARGET, caBundle };
const files = renderWebhookManifests(target);
for (const [name, text] of Object.entries(files)) {
  if (values.stdout) process.stdout.write(`---\n${text}`);
  else writeFileSync(join(DEPLOY_DIR, name), text);
}
