import test from "ava";
import {
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isNotFound,
  KubeError,
} from "../src/kube-error.js";

const target = {
  verb: "patch",
  group: "extensions.gardener.cloud",
  resource: "infrastructures/status",
  namespace: "shoot--a",
  name: "x",
};

test("a 403 names the verb, the resource with subresource, the namespace and the user", (t) => {
  const err = new KubeError(target, 403, {
    reason: "Forbidden",
    code: 403,
    message:
      'infrastructures.extensions.gardener.cloud "x" is forbidden: User "system:serviceaccount:kube-system:adapter" cannot patch resource "infrastructures/status"',
  });
  t.is(
    err.message,
    'forbidden: cannot patch resource "infrastructures/status" in group "extensions.gardener.cloud" in namespace "shoot--a" (check the RBAC of system:serviceaccount:kube-system:adapter)',
  );
  t.is(err.user, "system:serviceaccount:kube-system:adapter");
  t.true(isForbidden(err));
});

test("other statuses keep the server's reason and message; helpers classify them", (t) => {
  const nf = new KubeError({ verb: "get", group: "", resource: "configmaps", name: "c" }, 404, {
    reason: "NotFound",
    message: 'configmaps "c" not found',
  });
  t.is(
    nf.message,
    'get resource "configmaps" in the core group "c" failed: NotFound (404): configmaps "c" not found',
  );
  t.true(isNotFound(nf));
  t.false(isConflict(nf));
  const exists = new KubeError(target, 409, { reason: "AlreadyExists" });
  t.true(isAlreadyExists(exists) && isConflict(exists));
  t.false(isAlreadyExists(new KubeError(target, 409, { reason: "Conflict" })));
  t.true(isGone(new KubeError(target, 410, undefined)));
  const down = new KubeError(target, 0, undefined, { cause: new Error("ECONNREFUSED") });
  t.regex(down.message, /cannot reach the apiserver to patch/);
  t.is(down.reason, "Unavailable");
  t.false(isNotFound(new Error("404")));
});
