import type { Actuator, ActuatorContext, OwnerReference } from "@metal-kube/kube";
import type {
  RenderRequest,
  RenderResponse,
  SpecVersion,
} from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import type { OperatingSystemConfig, OscStatus } from "./osc.js";
import { gardenerFile, gardenerUnit, oscToRequest, secretKey } from "./osc-request.js";
import type { SecretApi, SecretObject } from "./secrets.js";

/** Gardener's names for the result Secret and its key (oscommon's generic OSC actuator). */
export const RESULT_SECRET_PREFIX = "osc-result-";
export const RESULT_SECRET_KEY = "cloud_config";
/** SHA-256 of the user data in the Secret: the Secret is rewritten only when it changes. */
export const CHECKSUM_ANNOTATION = "ignition.metal-stack.io/checksum";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "metal-kube-ignition";

/** What the actuator needs of the renderer: the gRPC client, or the renderer in-process. */
export interface RenderClient {
  render(request: RenderRequest, signal: AbortSignal): Promise<RenderResponse>;
}

export interface OscActuatorOptions {
  renderer: RenderClient;
  secrets: SecretApi;
  /** Spec version asked for; unset leaves it to the service's default. */
  specVersion?: SpecVersion;
}

/** Outcome of one reconcile, for logs and tests. */
export type SecretWrite = "created" | "updated" | "unchanged" | "deleted" | "none";

export const resultSecretName = (osc: OperatingSystemConfig) => `${RESULT_SECRET_PREFIX}${osc.metadata.name}`;

function ownerReference(osc: OperatingSystemConfig): OwnerReference {
  return {
    apiVersion: osc.apiVersion ?? "extensions.gardener.cloud/v1alpha1",
    kind: osc.kind ?? "OperatingSystemConfig",
    name: osc.metadata.name ?? "",
    uid: osc.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Reads every Secret the OSC's files reference; a missing Secret or key fails naming the file. */
async function resolveSecrets(osc: OperatingSystemConfig, api: SecretApi): Promise<Map<string, Buffer>> {
  const ns = osc.metadata.namespace ?? "";
  const out = new Map<string, Buffer>();
  const cache = new Map<string, SecretObject | undefined>();
  const files = osc.spec.files ?? [];
  for (const [i, f] of files.entries()) {
    const ref = f.content?.secretRef;
    if (!ref) continue;
    if (!cache.has(ref.name)) cache.set(ref.name, await api.get(ns, ref.name));
    const secret = cache.get(ref.name);
    const where = `spec.files[${i}] (${f.path})`;
    if (!secret) throw new Error(`${where}: Secret ${ns}/${ref.name} not found`);
    const value = secret.data?.[ref.dataKey];
    if (value === undefined) throw new Error(`${where}: Secret ${ns}/${ref.name} has no key ${ref.dataKey}`);
    out.set(secretKey(ref.name, ref.dataKey), Buffer.from(value, "base64"));
  }
  return out;
}

/**
 * The OperatingSystemConfig actuator: renders through the service, keeps the user data Secret
 * (owned by the OSC) in step, and reports extension files and units in the status. The generic
 * reconciler around it handles the finalizer, lastOperation and observedGeneration.
 */
export function createOscActuator(options: OscActuatorOptions): Actuator<OperatingSystemConfig> & {
  lastWrite(key: string): SecretWrite | undefined;
} {
  const { renderer, secrets } = options;
  const writes = new Map<string, SecretWrite>();

  async function writeResult(osc: OperatingSystemConfig, res: RenderResponse): Promise<SecretWrite> {
    const ns = osc.metadata.namespace ?? "";
    const name = resultSecretName(osc);
    const data = res.userData.toString("base64");
    const existing = await secrets.get(ns, name);
    const desired: SecretObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name,
        namespace: ns,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
        annotations: { [CHECKSUM_ANNOTATION]: res.sha256 },
        ownerReferences: [ownerReference(osc)],
      },
      type: "Opaque",
      data: { [RESULT_SECRET_KEY]: data },
    };
    if (!existing) {
      await secrets.create(desired);
      return "created";
    }
    const owned = existing.metadata.ownerReferences?.some((r) => r.uid === osc.metadata.uid) ?? false;
    if (
      owned &&
      existing.metadata.annotations?.[CHECKSUM_ANNOTATION] === res.sha256 &&
      existing.data?.[RESULT_SECRET_KEY] === data
    )
      return "unchanged";
    await secrets.replace({
      ...desired,
      metadata: {
        ...desired.metadata,
        // Keep what others put on the Secret; ours wins where keys collide.
        labels: { ...existing.metadata.labels, ...desired.metadata.labels },
        annotations: { ...existing.metadata.annotations, ...desired.metadata.annotations },
        resourceVersion: existing.metadata.resourceVersion,
      },
    });
    return "updated";
  }

  return {
    lastWrite: (key) => writes.get(key),

    async reconcile(osc: OperatingSystemConfig, ctx: ActuatorContext<OperatingSystemConfig>) {
      const key = `${osc.metadata.namespace}/${osc.metadata.name}`;
      const provision = osc.spec.purpose === "provision";
      // Reconcile OSCs are not rendered into user data: their references need not resolve.
      const resolved = provision ? await resolveSecrets(osc, secrets) : new Map<string, Buffer>();
      const request = oscToRequest(osc, resolved, options.specVersion);
      const res = await renderer.render(request, ctx.signal);
      ctx.signal.throwIfAborted();
      for (const w of res.warnings) ctx.logger.warn({ warning: w }, "render warning");

      const status: OscStatus = {
        extensionFiles: res.extensionFiles.map(gardenerFile),
        extensionUnits: res.extensionUnits.map(gardenerUnit),
      };
      let write: SecretWrite;
      if (provision) {
        write = await writeResult(osc, res);
        status.cloudConfig = {
          secretRef: { name: resultSecretName(osc), namespace: osc.metadata.namespace ?? "" },
        };
      } else {
        write = (await secrets.delete(osc.metadata.namespace ?? "", resultSecretName(osc)))
          ? "deleted"
          : "none";
      }
      writes.set(key, write);
      ctx.logger.info(
        { write, checksum: res.sha256, size: res.userData.length, specVersion: res.specVersion },
        "operating system config rendered",
      );
      if (write === "created" || write === "updated")
        ctx.event(
          "Normal",
          "UserDataWritten",
          `user data ${write} (sha256 ${res.sha256.slice(0, 12)}, ${res.userData.length} bytes)`,
        );
      return { status: status as Record<string, unknown> };
    },

    async delete(osc: OperatingSystemConfig) {
      // Owner references would let the garbage collector do this, but only where one runs.
      const deleted = await secrets.delete(osc.metadata.namespace ?? "", resultSecretName(osc));
      writes.set(`${osc.metadata.namespace}/${osc.metadata.name}`, deleted ? "deleted" : "none");
    },
  };
}
