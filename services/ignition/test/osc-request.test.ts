import { Purpose, SpecVersion, UnitCommand } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import { Code, ServiceError } from "@metal-kube/service-kit";
import test from "ava";
import type { OperatingSystemConfig } from "../src/adapter/osc.js";
import { gardenerFile, gardenerUnit, oscToRequest, secretKey } from "../src/adapter/osc-request.js";

const osc = (spec: Partial<OperatingSystemConfig["spec"]>): OperatingSystemConfig => ({
  metadata: { name: "o", namespace: "ns" },
  spec: { type: "ubuntu", purpose: "provision", ...spec },
});

test("a Gardener OSC maps onto the render request, secrets filled in by key", (t) => {
  const req = oscToRequest(
    osc({
      files: [
        {
          path: "/a",
          permissions: 0o600,
          content: { inline: { encoding: "b64", data: "YQ==" }, transmitUnencoded: true },
        },
        { path: "/b", content: { secretRef: { name: "s", dataKey: "k" } } },
        { path: "/c", content: { imageRef: { image: "i:1", filePathInImage: "/c" } } },
      ],
      units: [
        {
          name: "a.service",
          command: "restart",
          enable: false,
          dropIns: [{ name: "x.conf", content: "[Service]\n" }],
          filePaths: ["/a"],
        },
      ],
      criConfig: { name: "containerd", cgroupDriver: "systemd" },
      providerConfig: {
        apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
        kind: "ImageProviderConfig",
        networkIsolation: {
          dnsServers: ["1.1.1.1"],
          ntpServers: [],
          registryMirrors: [
            { name: "m", endpoint: "https://m", ip: "1.2.3.4", port: 443, mirrorOf: ["docker.io"] },
          ],
        },
      },
    }),
    new Map([[secretKey("s", "k"), Buffer.from("secret")]]),
    SpecVersion.SPEC_VERSION_2_3_0,
  );
  t.is(req.purpose, Purpose.PURPOSE_PROVISION);
  t.is(req.specVersion, SpecVersion.SPEC_VERSION_2_3_0);
  t.deepEqual(req.files[0], {
    path: "/a",
    permissions: 0o600,
    content: {
      source: { $case: "inline", value: { encoding: "b64", data: "YQ==" } },
      transmitUnencoded: true,
    },
  });
  const s = req.files[1]?.content?.source;
  t.is(s?.$case === "secretRef" ? s.value.data?.toString() : undefined, "secret");
  t.is(req.files[2]?.content?.source?.$case, "imageRef");
  t.like(req.units[0], {
    name: "a.service",
    command: UnitCommand.UNIT_COMMAND_RESTART,
    enable: false,
    filePaths: ["/a"],
  });
  t.deepEqual(req.containerRuntime, { name: "containerd", cgroupDriver: "systemd" });
  t.deepEqual(req.providerConfig?.networkIsolation?.registryMirrors, [
    { name: "m", endpoint: "https://m", mirrorOf: ["docker.io"] },
  ]);
});

test("an unknown purpose or unit command is INVALID_ARGUMENT naming the OSC field", (t) => {
  const purpose = t.throws(() => oscToRequest(osc({ purpose: "bootstrap" }), new Map()), {
    instanceOf: ServiceError,
  });
  t.is(purpose?.code, Code.INVALID_ARGUMENT);
  t.is(purpose?.field, "spec.purpose");
  const command = t.throws(
    () => oscToRequest(osc({ units: [{ name: "a.service", command: "reload" }] }), new Map()),
    {
      instanceOf: ServiceError,
    },
  );
  t.is(command?.field, "spec.units[0] (a.service).command");
  t.regex(command?.message ?? "", /unknown command "reload"/);
  const provider = t.throws(() => oscToRequest(osc({ providerConfig: "yes" }), new Map()), {
    instanceOf: ServiceError,
  });
  t.is(provider?.field, "spec.providerConfig");
});

test("extension files and units go into the status in Gardener's shape", (t) => {
  t.deepEqual(
    gardenerFile({
      path: "/x",
      permissions: 0o644,
      content: { source: { $case: "inline", value: { encoding: "", data: "d" } }, transmitUnencoded: false },
    }),
    { path: "/x", permissions: 0o644, content: { inline: { encoding: "", data: "d" } } },
  );
  t.deepEqual(
    gardenerUnit({
      name: "containerd.service",
      enable: undefined,
      command: UnitCommand.UNIT_COMMAND_UNSPECIFIED,
      content: undefined,
      dropIns: [],
      filePaths: ["/x"],
    }),
    { name: "containerd.service", filePaths: ["/x"] },
  );
});
