// The garden's webhooks: /webhooks/validate (Shoots, CloudProfiles, NamespacedCloudProfiles,
// SecretBindings, CredentialsBindings), /webhooks/validate/secrets and /webhooks/mutate (Shoots). Each
// fetches what the service needs to see and passes the service's verdict on.
import type { KubeObject } from "@metal-kube/kube";
import {
  type AdmissionRequest,
  type AdmissionResponse,
  allow,
  allowPatched,
  denyError,
} from "./admission-review.js";
import type { GardenObjects } from "./garden-objects.js";
import type { ExtensionClients } from "./grpc-client.js";
import { failureResponse, verdictResponse } from "./verdicts.js";
import type { Budget } from "./webhook-server.js";

const EMPTY = Buffer.alloc(0);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string => (typeof v === "string" ? v : "");

export interface GardenWebhooks {
  validate(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse>;
  validateSecret(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse>;
  mutate(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse>;
}

export function createGardenWebhooks(clients: ExtensionClients, garden: GardenObjects): GardenWebhooks {
  // Cached objects are replaced, never changed, on an update: their JSON is encoded once per version.
  const encoded = new WeakMap<object, Buffer>();
  const bytesOf = (o: unknown): Buffer => {
    if (o === undefined || o === null) return EMPTY;
    if (typeof o !== "object") return Buffer.from(JSON.stringify(o));
    let b = encoded.get(o);
    if (!b) {
      b = Buffer.from(JSON.stringify(o));
      encoded.set(o, b);
    }
    return b;
  };
  const own = (o: unknown): Buffer => (o == null ? EMPTY : Buffer.from(JSON.stringify(o)));

  /** The Shoot's profile (and a NamespacedCloudProfile's parent), or a message naming what is missing. */
  async function profileOf(
    shoot: Json,
    namespace: string,
  ): Promise<{ profile: KubeObject; parent?: KubeObject } | string> {
    const spec = obj(shoot.spec) ?? {};
    const ref = obj(spec.cloudProfile);
    const kind = str(ref?.kind) || "CloudProfile";
    const name = str(ref?.name) || str(spec.cloudProfileName);
    const field = ref && str(ref.name) ? "spec.cloudProfile.name" : "spec.cloudProfileName";
    if (name === "") return `${field}: the Shoot names no cloud profile`;
    if (kind === "NamespacedCloudProfile") {
      const profile = await garden.namespacedCloudProfile(namespace, name);
      if (!profile) return `${field}: NamespacedCloudProfile ${namespace}/${name} does not exist`;
      const parentName = str(obj(obj((profile as unknown as Json).spec)?.parent)?.name);
      const parent = parentName ? await garden.cloudProfile(parentName) : undefined;
      return { profile, parent };
    }
    const profile = await garden.cloudProfile(name);
    if (!profile) return `${field}: CloudProfile ${name} does not exist`;
    return { profile };
  }

  async function validateShoot(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse> {
    const shoot = req.object as Json;
    const found = await profileOf(shoot, req.namespace ?? "");
    if (typeof found === "string") return denyError(req.uid, 422, found);
    const r = await clients.validateShoot(
      {
        shoot: own(shoot),
        oldShoot: own(req.oldObject),
        cloudProfile: bytesOf(found.profile),
        parentCloudProfile: bytesOf(found.parent),
      },
      { deadline: budget.deadline },
    );
    return verdictResponse(req.uid, r);
  }

  async function validateCloudProfile(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse> {
    const profile = req.object as Json;
    let parent: KubeObject | undefined;
    if (req.kind.kind === "NamespacedCloudProfile") {
      const parentName = str(obj(obj(profile.spec)?.parent)?.name);
      parent = parentName ? await garden.cloudProfile(parentName) : undefined;
    }
    const r = await clients.validateCloudProfile(
      {
        cloudProfile: own(profile),
        oldCloudProfile: own(req.oldObject),
        parentCloudProfile: bytesOf(parent),
      },
      { deadline: budget.deadline },
    );
    return verdictResponse(req.uid, r);
  }

  async function validateBinding(req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse> {
    const binding = req.object as Json;
    let ref: Json | undefined;
    if (req.kind.kind === "SecretBinding") ref = obj(binding.secretRef);
    else {
      const c = obj(binding.credentialsRef);
      // Only a Secret is fetched: what else a CredentialsBinding may reference is the service's to refuse.
      if (c && str(c.apiVersion) === "v1" && str(c.kind) === "Secret") ref = c;
    }
    const secret = ref
      ? await garden.secret(str(ref.namespace) || (req.namespace ?? ""), str(ref.name))
      : undefined;
    const r = await clients.validateCredentials(
      { binding: own(binding), oldBinding: own(req.oldObject), secret: own(secret), oldSecret: EMPTY },
      { deadline: budget.deadline },
    );
    return verdictResponse(req.uid, r);
  }

  const guarded =
    (f: (req: AdmissionRequest, budget: Budget) => Promise<AdmissionResponse>) =>
    async (req: AdmissionRequest, budget: Budget): Promise<AdmissionResponse> => {
      // Deletes and connects are not ours to judge; the configurations register CREATE and UPDATE only.
      if ((req.operation !== "CREATE" && req.operation !== "UPDATE") || !req.object) return allow(req.uid);
      try {
        return await f(req, budget);
      } catch (err) {
        return failureResponse(req.uid, err);
      }
    };

  return {
    validate: guarded(async (req, budget) => {
      switch (req.kind.kind) {
        case "Shoot":
          return validateShoot(req, budget);
        case "CloudProfile":
        case "NamespacedCloudProfile":
          return validateCloudProfile(req, budget);
        case "SecretBinding":
        case "CredentialsBinding":
          return validateBinding(req, budget);
        default:
          return denyError(req.uid, 400, `/webhooks/validate does not handle ${req.kind.kind} objects`);
      }
    }),
    validateSecret: guarded(async (req, budget) => {
      if (req.kind.kind !== "Secret")
        return denyError(req.uid, 400, `/webhooks/validate/secrets handles Secrets, not ${req.kind.kind}`);
      const r = await clients.validateCredentials(
        { secret: own(req.object), oldSecret: own(req.oldObject), binding: EMPTY, oldBinding: EMPTY },
        { deadline: budget.deadline },
      );
      return verdictResponse(req.uid, r);
    }),
    mutate: guarded(async (req, budget) => {
      if (req.kind.kind !== "Shoot")
        return denyError(req.uid, 400, `/webhooks/mutate handles Shoots, not ${req.kind.kind}`);
      const shoot = req.object as Json;
      const found = await profileOf(shoot, req.namespace ?? "");
      if (typeof found === "string") return denyError(req.uid, 422, found);
      const r = await clients.defaultShoot(
        {
          shoot: own(shoot),
          cloudProfile: bytesOf(found.profile),
          parentCloudProfile: bytesOf(found.parent),
        },
        { deadline: budget.deadline },
      );
      return allowPatched(req.uid, r.patch);
    }),
  };
}
