// The service as its own process: both services over gRPC (reflection, health), a refusal is a response
// and an unreadable object a field-named INVALID_ARGUMENT, calls are counted, bad configuration exits 2.
import { spawnSync } from "node:child_process";
import { get } from "node:http";
import { type ServiceError, status } from "@grpc/grpc-js";
import type { ValidateShootResponse } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { checkHealth, listServicesByReflection } from "@metal-kube/testing";
import test from "ava";
import { bytes, cloudProfile, setPath, shoot } from "./fixtures/objects.js";
import { type ExtensionService, grpcClients, SERVICE_MAIN, startExtensionService } from "./harness.js";

let service: ExtensionService;
test.before(async () => {
  service = await startExtensionService({ DEFAULTER_MAXPODS: "110" });
});
test.after.always(async () => {
  await service?.proc.stop();
});

const EMPTY = Buffer.alloc(0);
function validateShoot(s: unknown, profile: unknown = cloudProfile()): Promise<ValidateShootResponse> {
  const { admission } = grpcClients(service.address);
  return new Promise((resolve, reject) =>
    admission.validateShoot(
      {
        shoot: typeof s === "string" ? Buffer.from(s) : bytes(s),
        oldShoot: EMPTY,
        cloudProfile: bytes(profile),
        parentCloudProfile: EMPTY,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

test("serves Admission and SeedMutation with reflection and health", async (t) => {
  const services = await listServicesByReflection(service.address);
  t.true(services.includes("metalstack.extension.v1.Admission"));
  t.true(services.includes("metalstack.extension.v1.SeedMutation"));
  t.is(await checkHealth(service.address), "SERVING");
});

test("a refusal is a response with field errors; an unreadable Shoot is INVALID_ARGUMENT naming the request field", async (t) => {
  const bad = shoot(1);
  setPath(bad, "spec.provider.infrastructureConfig.firewall.size", "tiny");
  const r = await validateShoot(bad);
  t.false(r.allowed);
  t.deepEqual(
    r.errors.map((e) => e.field),
    ["spec.provider.infrastructureConfig.firewall.size"],
  );
  t.is(r.errors[0]?.value, '"tiny"');
  const err = (await t.throwsAsync(validateShoot("[]"))) as unknown as ServiceError;
  t.is(err.code, status.INVALID_ARGUMENT);
  t.is(err.details, "shoot: not a JSON object");
});

test("the configured defaults apply and the calls are counted", async (t) => {
  const { admission } = grpcClients(service.address);
  const s = shoot(1);
  const r = await new Promise<{ fieldsSet: string[]; shoot: Buffer }>((resolve, reject) =>
    admission.defaultShoot(
      { shoot: bytes(s), cloudProfile: bytes(cloudProfile()), parentCloudProfile: EMPTY },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
  t.true(r.fieldsSet.includes("spec.kubernetes.kubelet.maxPods"));
  t.regex(r.shoot.toString(), /"maxPods":110/);
  const metrics = await new Promise<string>((resolve, reject) =>
    get(`http://${service.metricsAddress}/metrics`, (res) => {
      let b = "";
      res.on("data", (d: Buffer) => {
        b += d.toString();
      });
      res.on("end", () => resolve(b));
    }).on("error", reject),
  );
  t.regex(
    metrics,
    /grpc_server_handled_total\{[^}]*method="\/metalstack\.extension\.v1\.Admission\/DefaultShoot"[^}]*\} [1-9]/,
  );
});

test("a bad DEFAULTER_* value stops the service with exit 2 naming the variable", (t) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", SERVICE_MAIN], {
    env: {
      ...process.env,
      DEFAULTER_PODSCIDR: "10.240.0.0",
      GRPC_LISTEN: "127.0.0.1:0",
      METRICS_LISTEN: "127.0.0.1:0",
    },
    encoding: "utf8",
    timeout: 30_000,
  });
  t.is(r.status, 2);
  t.regex(`${r.stderr}${r.stdout}`, /DEFAULTER_PODSCIDR: must be a CIDR such as 10\.240\.0\.0\/13/);
});
