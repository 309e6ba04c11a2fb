import { MetalApiError } from "@metal-kube/metal-api";
import { Code, ServiceError } from "@metal-kube/service-kit";
import test from "ava";
import {
  formatProviderId,
  isReservedTag,
  metalApiErrorToServiceError,
  outcomeUnknown,
  parseProviderId,
  serviceOfTag,
  serviceTag,
  tagsToLabels,
  tagValues,
} from "../src/index.js";

const codeOf = (fn: () => unknown): { code: number; message: string } => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServiceError) return { code: err.code, message: err.message };
    throw err;
  }
  return { code: Code.OK, message: "" };
};

test("providerID: encodes metal://<partition>/<id>, refuses keys nobody else produces", (t) => {
  t.is(formatProviderId("fra-equ01", "m-1"), "metal://fra-equ01/m-1");
  for (const [partition, id] of [
    ["", "m-1"],
    [undefined, "m-1"],
    ["a/b", "m-1"],
    ["fra equ01", "m-1"],
    ["fra-equ01", ""],
    ["fra-equ01", "m/1"],
  ] as const) {
    const r = codeOf(() => formatProviderId(partition, id));
    t.is(r.code, Code.INTERNAL, `${partition}/${id}`);
    t.regex(r.message, /no usable partition|is not usable/);
  }
});

test("providerID: decodes the current and the older forms, strictly", (t) => {
  t.deepEqual(parseProviderId("metal://fra-equ01/m-1", "f"), { partition: "fra-equ01", machineId: "m-1" });
  t.deepEqual(parseProviderId("metal:///m-1", "f"), { partition: undefined, machineId: "m-1" });
  t.deepEqual(parseProviderId("metal:////m-1", "f"), { partition: undefined, machineId: "m-1" });
  t.deepEqual(parseProviderId("metal://m-1", "f"), { partition: undefined, machineId: "m-1" });
  const wrong = codeOf(() => parseProviderId("aws:///i-1", "node.provider_id"));
  t.is(wrong.code, Code.INVALID_ARGUMENT);
  t.regex(wrong.message, /^node\.provider_id: must start with metal:\/\/, got "aws:\/\/\/i-1"/);
  for (const bad of ["metal://", "metal://p/", "metal://p/m 1", "metal:///"]) {
    const r = codeOf(() => parseProviderId(bad, "machine.providerID"));
    t.is(r.code, Code.INVALID_ARGUMENT, bad);
    t.regex(r.message, /^machine\.providerID: names no machine id/, bad);
  }
});

test("tags: service tags round-trip per cluster; reserved tags; values by key", (t) => {
  const tag = serviceTag("c1", "default", "web");
  t.is(tag, "cluster.metal-stack.io/id/namespace/service=c1/default/web");
  t.is(serviceOfTag("c1", tag), "default/web");
  t.is(serviceOfTag("c2", tag), undefined);
  t.true(isReservedTag("machine.metal-stack.io/id=m-1"));
  t.true(isReservedTag("cluster.metal-stack.io/id/egress=c1"));
  t.false(isReservedTag(tag));
  t.deepEqual(
    tagValues(
      [
        "cluster.metal-stack.io/id=a",
        "cluster.metal-stack.io/id",
        "cluster.metal-stack.io/id/egress=b",
        "x=y",
      ],
      "cluster.metal-stack.io/id",
    ),
    ["a"],
  );
});

test("machine tags become node labels only when key and value are valid labels", (t) => {
  t.deepEqual(
    tagsToLabels([
      "machine.metal-stack.io/rack=rack-1",
      "bare",
      "=v",
      "a key=v",
      "k=not valid",
      "x.example.com/y=",
      `k=${"v".repeat(64)}`,
    ]),
    { "machine.metal-stack.io/rack": "rack-1", "x.example.com/y": "" },
  );
});

test("metal-api errors map to the gRPC codes callers act on, with metal-api's message", (t) => {
  const http = (status: number, message: string) =>
    new MetalApiError({ kind: "http", operation: "machine.allocate", status, metalMessage: message });
  const cases: Array<[MetalApiError, number]> = [
    [http(422, "no machine available"), Code.RESOURCE_EXHAUSTED],
    [http(404, "not found"), Code.NOT_FOUND],
    [http(403, "forbidden"), Code.PERMISSION_DENIED],
    [http(409, "conflict"), Code.ABORTED],
    [http(400, "ip is used by a machine"), Code.FAILED_PRECONDITION],
    [http(500, "boom"), Code.UNAVAILABLE],
    [http(418, "teapot"), Code.INTERNAL],
    [new MetalApiError({ kind: "timeout", operation: "ip.find" }), Code.UNAVAILABLE],
    [
      new MetalApiError({ kind: "connection", operation: "ip.find", cause: new Error("refused") }),
      Code.UNAVAILABLE,
    ],
  ];
  for (const [err, code] of cases) {
    const mapped = metalApiErrorToServiceError(err);
    t.is(mapped.code, code, err.message);
    t.true(mapped.exposeMessage || code !== Code.INTERNAL, err.message);
    t.true(mapped.message.includes(err.message), mapped.message);
    t.is(mapped.cause, err);
  }
  t.true(outcomeUnknown(http(503, "down")));
  t.false(outcomeUnknown(http(422, "quota")));
  t.false(outcomeUnknown(new MetalApiError({ kind: "aborted", operation: "x" })));
});
