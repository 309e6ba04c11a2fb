import { RenderRequest, RenderResponse } from "@metal-kube/proto/metalstack/ignition/v1/ignition";
import test from "ava";
import { createRecordingEventSink } from "../src/events.js";
import { createRenderMemo, sampleKey } from "../src/render-memo.js";
import { createRenderer } from "../src/renderer.js";
import { createIgnitionService } from "../src/service.js";
import { plainFile, request } from "./helpers.js";

const renderer = createRenderer();

/** One call the way grpc-js makes it: bytes in, handler, bytes out. */
async function call(svc: ReturnType<typeof createIgnitionService>, req: RenderRequest): Promise<Buffer> {
  const def = svc.definition.render as unknown as {
    requestDeserialize(b: Buffer): RenderRequest;
    responseSerialize(r: RenderResponse): Buffer;
  };
  const decoded = def.requestDeserialize(Buffer.from(RenderRequest.encode(req).finish()));
  const handler = svc.handlers.render as (r: RenderRequest, ctx: unknown) => Promise<RenderResponse>;
  return def.responseSerialize(await handler(decoded, {}));
}

/** The renderer, counting how often it really renders. */
function countingRenderer() {
  return {
    renders: 0,
    render(r: RenderRequest) {
      this.renders++;
      return renderer.render(r);
    },
  };
}

test("a repeated request is answered from the memo with the same bytes, without rendering", async (t) => {
  const counting = countingRenderer();
  const memo = createRenderMemo();
  const svc = createIgnitionService({ renderer: counting, memo });
  const req = request({ files: [plainFile("/etc/a", "a")] });
  const first = await call(svc, req);
  const second = await call(svc, req);
  t.true(first.equals(second));
  t.is(counting.renders, 1);
  t.is(memo.size, 1);
  t.deepEqual(RenderResponse.decode(second), renderer.render(req));
});

test("any difference in the request (even only the OSC name) is a miss", async (t) => {
  const counting = countingRenderer();
  const svc = createIgnitionService({ renderer: counting, memo: createRenderMemo() });
  const a = await call(svc, request({ files: [plainFile("/etc/a", "a")] }));
  const b = await call(svc, request({ files: [plainFile("/etc/a", "b")] }));
  await call(svc, request({ name: "other", files: [plainFile("/etc/a", "a")] }));
  t.is(counting.renders, 3);
  t.false(a.equals(b));
});

test("requests with the same lookup key but other bytes are told apart byte for byte", async (t) => {
  const counting = countingRenderer();
  const svc = createIgnitionService({ renderer: counting, memo: createRenderMemo() });
  const content = "x".repeat(4096);
  const a = request({ files: [plainFile("/etc/a", content)] });
  const encodedA = Buffer.from(RenderRequest.encode(a).finish());
  // One byte of the file content that the key's sample skips: same length, same key, other request.
  let at = 200;
  while (at % 64 === 0) at++;
  const b = request({
    files: [plainFile("/etc/a", `${content.slice(0, at - 100)}y${content.slice(at - 99)}`)],
  });
  const encodedB = Buffer.from(RenderRequest.encode(b).finish());
  t.is(encodedA.length, encodedB.length);
  if (sampleKey(encodedA) !== sampleKey(encodedB)) return t.fail("the test needs requests with equal keys");
  t.false(encodedA.equals(encodedB));
  await call(svc, a);
  const answerB = await call(svc, b);
  t.is(counting.renders, 2, "the second request is rendered, not served the first one's answer");
  t.deepEqual(RenderResponse.decode(answerB), renderer.render(b));
  await call(svc, b);
  t.is(counting.renders, 2, "and is then remembered itself");
});

test("errors are not remembered, and the memo is bounded by entries and bytes", async (t) => {
  const memo = createRenderMemo({ maxEntries: 2, maxBytes: 1_000_000 });
  const svc = createIgnitionService({ renderer, memo });
  await t.throwsAsync(call(svc, request({ files: [plainFile("relative", "a")] })));
  t.is(memo.size, 0);
  for (let i = 0; i < 5; i++) await call(svc, request({ files: [plainFile("/etc/a", `v${i}`)] }));
  t.is(memo.size, 2);
  const small = createRenderMemo({ maxEntries: 100, maxBytes: 3000 });
  const svc2 = createIgnitionService({ renderer, memo: small });
  for (let i = 0; i < 5; i++) await call(svc2, request({ files: [plainFile("/etc/a", `v${i}`)] }));
  t.true(small.bytes <= 3000 && small.size >= 1, `${small.size} entries, ${small.bytes} bytes`);
});

test("a repeat answered from the memo emits no second rendered event; a changed OSC does", async (t) => {
  const events = createRecordingEventSink();
  const svc = createIgnitionService({ renderer, memo: createRenderMemo(), events });
  const req = request({ files: [plainFile("/etc/a", "a")] });
  await call(svc, req);
  await call(svc, req);
  t.deepEqual(
    events.events.map((e) => e.action),
    ["rendered"],
  );
  await call(svc, request({ files: [plainFile("/etc/a", "b")] }));
  t.is(events.events.length, 2);
  const [first, second] = events.events.map((e) => e.data as { checksum: string; name: string });
  t.is(first?.name, req.name);
  t.not(first?.checksum, second?.checksum);
  // Without a memo every call renders and announces itself.
  const plain = createRecordingEventSink();
  const svc2 = createIgnitionService({ renderer, events: plain });
  await call(svc2, req);
  await call(svc2, req);
  t.is(plain.events.length, 2);
});
