// Pure parts of the adapter: what a Service asks for, which updates need a reconcile, and when an
// existing MetalLB object already matches (the apiserver adds defaults to spec).

import test from "ava";
import { covers } from "../src/adapter/lb-config-controller.js";
import type { ServiceObject } from "../src/adapter/resources.js";
import { serviceChanged, toLoadBalancerService } from "../src/adapter/service-controller.js";

const svc = (over: Partial<ServiceObject> = {}): ServiceObject => ({
  metadata: { name: "web", namespace: "prod", uid: "u1", annotations: {}, ...over.metadata },
  spec: { type: "LoadBalancer", ports: [{ port: 80 }], ...over.spec },
  status: over.status,
});

test("requested IP: spec.loadBalancerIP, else the first of MetalLB's loadBalancerIPs", (t) => {
  t.is(toLoadBalancerService(svc({ spec: { loadBalancerIP: "198.18.0.5" } })).loadBalancerIp, "198.18.0.5");
  const annotated = svc({
    metadata: { name: "web", annotations: { "metallb.io/loadBalancerIPs": "198.18.0.6, 2001:db8::6" } },
  });
  t.is(toLoadBalancerService(annotated).loadBalancerIp, "198.18.0.6");
  const old = svc({
    metadata: { name: "web", annotations: { "metallb.universe.tf/loadBalancerIPs": "198.18.0.7" } },
  });
  t.is(toLoadBalancerService(old).loadBalancerIp, "198.18.0.7");
  const r = toLoadBalancerService(svc());
  t.like(r, { namespace: "prod", name: "web", uid: "u1", loadBalancerIp: "" });
  t.deepEqual(r.ports, [{ name: "", protocol: "TCP", port: 80, nodePort: 0 }]);
});

test("only spec, annotations, deletion and a removed finalizer need a reconcile", (t) => {
  const a = svc({ metadata: { name: "web", finalizers: ["service.kubernetes.io/load-balancer-cleanup"] } });
  t.false(serviceChanged(a, { ...a, status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } } }));
  t.true(serviceChanged(a, { ...a, spec: { ...a.spec, type: "ClusterIP" } }));
  t.true(
    serviceChanged(a, { ...a, metadata: { ...a.metadata, annotations: { "metallb.io/address-pool": "x" } } }),
  );
  t.true(serviceChanged(a, { ...a, metadata: { ...a.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }));
  t.true(serviceChanged(a, { ...a, metadata: { ...a.metadata, finalizers: [] } }));
  const b = svc();
  t.false(
    serviceChanged(b, {
      ...b,
      metadata: { ...b.metadata, finalizers: ["service.kubernetes.io/load-balancer-cleanup"] },
    }),
  );
});

test("covers: every field we set matches; apiserver defaults are ignored; arrays compare whole", (t) => {
  t.true(
    covers(
      { addresses: ["a"], autoAssign: false, avoidBuggyIPs: false },
      { addresses: ["a"], autoAssign: false },
    ),
  );
  t.false(covers({ addresses: ["a", "b"], autoAssign: false }, { addresses: ["a"], autoAssign: false }));
  t.false(covers({ addresses: ["a"] }, { addresses: ["a"], autoAssign: false }));
  t.true(covers({ x: [{ a: 1, b: 2 }] }, { x: [{ a: 1 }] }));
  t.false(covers(undefined, { a: 1 }));
});
