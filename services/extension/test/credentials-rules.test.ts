// The credentials rules: a Secret holds exactly one of metalAPIKey and metalAPIHMac; bindings are checked
// with the Secret they reference.
import { FieldErrorType as T } from "@metal-kube/proto/metalstack/extension/v1/admission";
import test from "ava";
import { createAdmission } from "../src/admission.js";
import { createRecordingEventSink } from "../src/events.js";
import type { JsonObject } from "../src/gardener/json.js";
import { bytes, secret, setPath } from "./fixtures/objects.js";

const events = createRecordingEventSink();
const admission = createAdmission({ events });
const EMPTY = Buffer.alloc(0);
const check = (o: {
  secret?: JsonObject;
  oldSecret?: JsonObject;
  binding?: JsonObject;
  oldBinding?: JsonObject;
}) =>
  admission.validateCredentials({
    secret: o.secret ? bytes(o.secret) : EMPTY,
    oldSecret: o.oldSecret ? bytes(o.oldSecret) : EMPTY,
    binding: o.binding ? bytes(o.binding) : EMPTY,
    oldBinding: o.oldBinding ? bytes(o.oldBinding) : EMPTY,
  });

const secretBinding = (type = "metal"): JsonObject => ({
  apiVersion: "core.gardener.cloud/v1beta1",
  kind: "SecretBinding",
  metadata: { name: "b", namespace: "garden-proj" },
  secretRef: { name: "metal-credentials" },
  provider: { type },
});
const credentialsBinding = (ref: JsonObject): JsonObject => ({
  apiVersion: "security.gardener.cloud/v1alpha1",
  kind: "CredentialsBinding",
  metadata: { name: "c", namespace: "garden-proj" },
  credentialsRef: ref,
  provider: { type: "metal" },
});

test("a Secret with a key or an HMAC passes", (t) => {
  t.true(check({ secret: secret({ metalAPIKey: "t" }) }).allowed);
  t.true(check({ secret: secret({ metalAPIHMac: "h", metalAPIURL: "https://x" }) }).allowed);
});

test("a Secret with both, neither, or no data is refused at data", (t) => {
  const both = check({ secret: secret({ metalAPIKey: "t", metalAPIHMac: "h" }) });
  t.deepEqual(
    both.errors.map((e) => [e.field, e.type]),
    [["data", T.FIELD_ERROR_TYPE_FORBIDDEN]],
  );
  t.is(both.message, "data: Forbidden: either metalAPIHMac or metalAPIKey must be set, not both");
  const neither = check({ secret: secret({ metalAPIKey: "" }) });
  t.deepEqual(
    neither.errors.map((e) => [e.field, e.type]),
    [["data", T.FIELD_ERROR_TYPE_REQUIRED]],
  );
  const empty = secret({});
  setPath(empty, "data", undefined);
  t.is(check({ secret: empty }).message, "data: Required value: secret does not contain any data");
  const viaStringData = secret({ metalAPIKey: "t" });
  setPath(viaStringData, "stringData", { metalAPIHMac: "h" });
  t.false(check({ secret: viaStringData }).allowed);
});

test("a Secret update that keeps its data is not checked again", (t) => {
  const bad = secret({ metalAPIKey: "t", metalAPIHMac: "h" });
  t.true(check({ secret: bad, oldSecret: bad }).allowed);
  t.false(check({ secret: bad, oldSecret: secret({ metalAPIKey: "t" }) }).allowed);
});

test("a SecretBinding is checked with its Secret; an update keeping the provider type is not", (t) => {
  const bad = secret({ metalAPIKey: "t", metalAPIHMac: "h" });
  const r = check({ binding: secretBinding(), secret: bad });
  t.deepEqual(
    r.errors.map((e) => [e.field, e.type]),
    [["secretRef", T.FIELD_ERROR_TYPE_INVALID]],
  );
  t.is(
    r.errors[0]?.message,
    "referenced secret garden-proj/metal-credentials is not valid: data: Forbidden: either metalAPIHMac or metalAPIKey must be set, not both",
  );
  t.regex(
    check({ binding: secretBinding() }).message,
    /referenced secret garden-proj\/metal-credentials does not exist/,
  );
  t.true(check({ binding: secretBinding(), oldBinding: secretBinding(), secret: bad }).allowed);
  t.false(check({ binding: secretBinding(), oldBinding: secretBinding("aws"), secret: bad }).allowed);
  t.true(check({ binding: secretBinding("aws"), secret: bad }).allowed);
  t.false(check({ binding: secretBinding("aws,metal"), secret: bad }).allowed);
});

test("a CredentialsBinding must reference a v1 Secret that is valid; its updates pass", (t) => {
  const ok = credentialsBinding({
    apiVersion: "v1",
    kind: "Secret",
    name: "metal-credentials",
    namespace: "garden-proj",
  });
  t.true(check({ binding: ok, secret: secret({ metalAPIHMac: "h" }) }).allowed);
  t.false(check({ binding: ok, secret: secret({}) }).allowed);
  const wi = credentialsBinding({
    apiVersion: "security.gardener.cloud/v1alpha1",
    kind: "WorkloadIdentity",
    name: "w",
    namespace: "garden-proj",
  });
  const r = check({ binding: wi });
  t.deepEqual(
    r.errors.map((e) => [e.field, e.type]),
    [["credentialsRef", T.FIELD_ERROR_TYPE_INVALID]],
  );
  t.regex(
    r.message,
    /unsupported credentials reference: version "security.gardener.cloud\/v1alpha1", kind "WorkloadIdentity"/,
  );
  t.true(check({ binding: wi, oldBinding: wi }).allowed);
});

test("every refusal is announced with kind, name and fields", (t) => {
  events.events.length = 0;
  check({ secret: secret({ metalAPIKey: "t", metalAPIHMac: "h" }) });
  check({ secret: secret({ metalAPIKey: "t" }) });
  t.deepEqual(events.events, [
    {
      action: "denied",
      data: {
        kind: "Secret",
        namespace: "garden-proj",
        name: "metal-credentials",
        operation: "create",
        fields: [
          {
            field: "data",
            type: "FORBIDDEN",
            message: "either metalAPIHMac or metalAPIKey must be set, not both",
          },
        ],
      },
    },
  ]);
});

test("no Secret and no binding is INVALID_ARGUMENT", (t) => {
  t.throws(() => check({}), { message: /^secret: required/ });
});
