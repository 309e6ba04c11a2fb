// The Admission service's domain: requests (objects as JSON bytes) to verdicts, with an event per
// refusal and per defaulting.
import {
  type DefaultShootRequest,
  type DefaultShootResponse,
  type FieldError,
  type FieldErrorType,
  fieldErrorTypeToJSON,
  type ValidateCloudProfileRequest,
  type ValidateCloudProfileResponse,
  type ValidateCredentialsRequest,
  type ValidateCredentialsResponse,
  type ValidateShootRequest,
  type ValidateShootResponse,
} from "@metal-kube/proto/metalstack/extension/v1/admission";
import { ServiceError } from "@metal-kube/service-kit";
import { DEFAULT_SHOOT_DEFAULTS, type ShootDefaults } from "./defaults/options.js";
import { defaultShoot } from "./defaults/shoot-defaults.js";
import { type EventSink, noopEventSink } from "./events.js";
import type { Verdict } from "./field-errors.js";
import type { JsonObject } from "./gardener/json.js";
import {
  CLOUD_PROFILE,
  CREDENTIALS_BINDING,
  NAMESPACED_CLOUD_PROFILE,
  nameOf,
  namespaceOf,
  parseObject,
  SECRET,
  SECRET_BINDING,
  SHOOT,
} from "./gardener/objects.js";
import { createProfileMemo } from "./gardener/profile-memo.js";
import { createPatch } from "./json-patch.js";
import { cloudProfileConfigMessage } from "./provider-config/cloud-profile-config.js";
import { controlPlaneConfigMessage } from "./provider-config/control-plane-config.js";
import { infrastructureConfigMessage } from "./provider-config/infrastructure-config.js";
import { validateCloudProfile } from "./rules/cloud-profile.js";
import { validateBinding, validateSecret } from "./rules/credentials.js";
import { validateShoot } from "./rules/shoot.js";

export interface AdmissionOptions {
  defaults?: ShootDefaults;
  events?: EventSink;
}

export interface Admission {
  validateShoot(req: ValidateShootRequest): ValidateShootResponse;
  validateCloudProfile(req: ValidateCloudProfileRequest): ValidateCloudProfileResponse;
  validateCredentials(req: ValidateCredentialsRequest): ValidateCredentialsResponse;
  defaultShoot(req: DefaultShootRequest): DefaultShootResponse;
}

const typeName = (t: FieldErrorType) => fieldErrorTypeToJSON(t).replace("FIELD_ERROR_TYPE_", "");

export function createAdmission(options: AdmissionOptions = {}): Admission {
  const defaults = options.defaults ?? DEFAULT_SHOOT_DEFAULTS;
  const events = options.events ?? noopEventSink;
  const profiles = createProfileMemo();

  const judged = (obj: JsonObject, old: JsonObject | undefined, v: Verdict): Verdict => {
    if (!v.allowed)
      events.emit("denied", {
        kind: String(obj.kind),
        namespace: namespaceOf(obj),
        name: nameOf(obj),
        operation: old ? "update" : "create",
        fields: v.errors.map((e: FieldError) => ({
          field: e.field,
          type: typeName(e.type),
          message: e.message,
        })),
      });
    return v;
  };

  return {
    validateShoot(req) {
      const shoot = parseObject(req.shoot, "shoot", [SHOOT]);
      const old = parseObject(req.oldShoot, "old_shoot", [SHOOT], true);
      const r = validateShoot(shoot, old, profiles.resolve(req.cloudProfile, req.parentCloudProfile));
      return {
        ...judged(shoot, old, r.verdict),
        infrastructureConfig: r.infrastructureConfig && infrastructureConfigMessage(r.infrastructureConfig),
        controlPlaneConfig: r.controlPlaneConfig && controlPlaneConfigMessage(r.controlPlaneConfig),
      };
    },

    validateCloudProfile(req) {
      const profile = parseObject(req.cloudProfile, "cloud_profile", [
        CLOUD_PROFILE,
        NAMESPACED_CLOUD_PROFILE,
      ]);
      const kinds = profile.kind === CLOUD_PROFILE.kind ? [CLOUD_PROFILE] : [NAMESPACED_CLOUD_PROFILE];
      const old = parseObject(req.oldCloudProfile, "old_cloud_profile", kinds, true);
      const parent = parseObject(req.parentCloudProfile, "parent_cloud_profile", [CLOUD_PROFILE], true);
      const r = validateCloudProfile(profile, old, parent);
      return {
        ...judged(profile, old, r.verdict),
        cloudProfileConfig: r.config && cloudProfileConfigMessage(r.config),
      };
    },

    validateCredentials(req) {
      const secret = parseObject(req.secret, "secret", [SECRET], true);
      if (req.binding.length === 0) {
        if (!secret)
          throw ServiceError.invalidArgument(
            "secret",
            "required: a Secret, or a binding and the Secret it references",
          );
        const old = parseObject(req.oldSecret, "old_secret", [SECRET], true);
        return judged(secret, old, validateSecret(secret, old));
      }
      const binding = parseObject(req.binding, "binding", [SECRET_BINDING, CREDENTIALS_BINDING]);
      const old = parseObject(
        req.oldBinding,
        "old_binding",
        binding.kind === SECRET_BINDING.kind ? [SECRET_BINDING] : [CREDENTIALS_BINDING],
        true,
      );
      return judged(binding, old, validateBinding(binding, old, secret));
    },

    defaultShoot(req) {
      const shoot = parseObject(req.shoot, "shoot", [SHOOT]);
      const r = defaultShoot(shoot, profiles.resolve(req.cloudProfile, req.parentCloudProfile), defaults);
      if (r.fieldsSet.length > 0)
        events.emit("defaulted", {
          kind: "Shoot",
          namespace: namespaceOf(shoot),
          name: nameOf(shoot),
          fields: r.fieldsSet,
        });
      return {
        shoot: r.fieldsSet.length > 0 ? Buffer.from(JSON.stringify(r.shoot)) : Buffer.from(req.shoot),
        fieldsSet: r.fieldsSet,
        patch: Buffer.from(JSON.stringify(r.fieldsSet.length > 0 ? createPatch(shoot, r.shoot) : [])),
        infrastructureConfig: r.infrastructureConfig && infrastructureConfigMessage(r.infrastructureConfig),
      };
    },
  };
}
