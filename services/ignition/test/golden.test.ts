// Golden files: representative OSCs (Gardener JSON, as the adapter sees them) through the adapter's
// mapping and the renderer. The golden pins the exact bytes (sha256) and shows them readably: the
// parsed Ignition config plus every file decoded. UPDATE_GOLDEN=1 rewrites them after a reviewed change.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { SpecVersion } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import test from "ava";
import type { OperatingSystemConfig } from "../src/adapter/osc.js";
import { oscToRequest, secretKey } from "../src/adapter/osc-request.js";
import { createRenderer } from "../src/renderer.js";
import { ignitionFiles, ignitionValidate } from "./helpers.js";
import { checkSpec230 } from "./spec-v2-3.js";

const FIXTURES = join(import.meta.dirname, "fixtures/osc");
const GOLDEN = join(import.meta.dirname, "golden");
const update = process.env.UPDATE_GOLDEN === "1";

interface Fixture {
  specVersion: "3.3.0" | "2.3.0";
  secrets: Record<string, string>;
  osc: OperatingSystemConfig;
}

const renderer = createRenderer();

function readable(data: Buffer): string {
  const text = data.toString("utf8");
  return Buffer.from(text, "utf8").equals(data) && !text.includes("\0")
    ? text
    : `<${data.length} bytes: ${data.toString("base64")}>`;
}

for (const file of readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .sort()) {
  const name = basename(file, ".json");
  test(`golden: ${name}`, async (t) => {
    const fx = JSON.parse(readFileSync(join(FIXTURES, file), "utf8")) as Fixture;
    const secrets = new Map(
      Object.entries(fx.secrets).map(([k, v]) => {
        const [secret, key] = k.split("/") as [string, string];
        return [secretKey(secret, key), Buffer.from(v, "base64")];
      }),
    );
    const version =
      fx.specVersion === "2.3.0" ? SpecVersion.SPEC_VERSION_2_3_0 : SpecVersion.SPEC_VERSION_3_3_0;
    const res = renderer.render(oscToRequest(fx.osc, secrets, version));
    const config = res.userData.length > 0 ? JSON.parse(res.userData.toString()) : null;
    const actual = {
      specVersion: res.specVersion,
      sha256: res.sha256,
      size: res.userData.length,
      warnings: res.warnings,
      extensionFiles: res.extensionFiles.map((f) => ({
        path: f.path,
        permissions: f.permissions,
        data: f.content?.source?.$case === "inline" ? f.content.source.value.data : undefined,
      })),
      extensionUnits: res.extensionUnits.map((u) => ({ name: u.name, filePaths: u.filePaths })),
      decodedFiles: config
        ? Object.fromEntries([...ignitionFiles(config)].map(([p, f]) => [p, readable(f.data)]))
        : null,
      userData: config,
    };
    const path = join(GOLDEN, `${name}.json`);
    const text = `${JSON.stringify(actual, null, 2)}\n`;
    if (update) writeFileSync(path, text);
    const golden = JSON.parse(readFileSync(path, "utf8"));
    t.deepEqual(actual, golden, `${name}: run with UPDATE_GOLDEN=1 after reviewing the difference`);
    // The golden bytes must stay valid for the real Ignition (3.x) or the 2.3.0 schema.
    if (res.userData.length > 0) {
      if (res.specVersion === "2.3.0") t.deepEqual(checkSpec230(res.userData.toString()), []);
      else {
        const v = await ignitionValidate(res.userData);
        t.true(v.ok, v.output);
      }
    }
  });
}
