import type { FieldError } from "@metal-kube/proto/metalstack/extension/v1/admission";
import { type FieldPath, fieldError } from "../field-errors.js";
import type { EffectiveCloudProfile } from "../gardener/cloud-profile.js";
import { arr, at, isObject, str } from "../gardener/json.js";

/**
 * Worker pools (paths spec.provider.workers[i]; the reference's are spec.provider[i]): no volume, no
 * zones (the partition is the zone), and a machine image the CloudProfile offers.
 */
export function validateWorkers(
  workers: unknown,
  profile: EffectiveCloudProfile,
  p: FieldPath,
): FieldError[] {
  const errors: FieldError[] = [];
  const offered = profile.machineImages.flatMap((m) => m.versions.map((v) => `${m.name}-${v}`));
  arr(workers).forEach((w, i) => {
    if (!isObject(w)) return;
    const wp = p.index(i);
    if (w.volume != null)
      errors.push(fieldError.forbidden(wp.child("volume"), "volumes are not yet supported and must be nil"));
    if (arr(w.zones).length > 0)
      errors.push(
        fieldError.forbidden(
          wp.child("zones"),
          "zone spreading is not supported, specify partition via infrastructure config",
        ),
      );
    const image = at(w, "machine", "image");
    if (!isObject(image)) return; // Gardener defaults the image before webhooks run
    const name = str(image.name) ?? "";
    const version = str(image.version);
    const known = profile.machineImages.find((m) => m.name === name);
    const ok =
      known !== undefined && (version === undefined || version === "" || known.versions.includes(version));
    if (!ok)
      errors.push(
        fieldError.invalid(
          wp.child("machine", "image"),
          image,
          `machine image ${name} in version ${version ?? ""} not offered, available images are: [${offered.join(" ")}]`,
        ),
      );
  });
  return errors;
}
