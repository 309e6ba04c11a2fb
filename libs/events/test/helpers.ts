import { Writable } from "node:stream";
import { createLogger, type Logger } from "@metal-kube/logging";
import { connect, type JsMsg } from "nats";
import { type CloudEvent, decodeCloudEvent } from "../src/index.js";

/** A logger whose lines the test can read. */
export function captureLogger(name = "test"): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ name, level: "debug", destination: sink });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export interface StoredEvent {
  streamSeq: number;
  subject: string;
  msgId: string | undefined;
  event: CloudEvent;
}

/**
 * Reads every message of the stream on `filter` straight from JetStream (a plain ordered fetch, independent
 * of the library's subscriber), in stream order.
 */
export async function readStream(url: string, filter: string, stream = "METAL"): Promise<StoredEvent[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const out: StoredEvent[] = [];
    if (info.state.messages === 0) return out;
    const js = nc.jetstream();
    const consumer = await js.consumers.get(stream, { filterSubjects: filter });
    const last = info.state.last_seq;
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let got = 0;
      let done = false;
      for await (const m of batch as AsyncIterable<JsMsg>) {
        got++;
        out.push({
          streamSeq: m.seq,
          subject: m.subject,
          msgId: m.headers?.get("Nats-Msg-Id") || undefined,
          event: decodeCloudEvent(m.data),
        });
        if (m.seq >= last || m.info.pending === 0) done = true;
      }
      if (done || got === 0) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}
