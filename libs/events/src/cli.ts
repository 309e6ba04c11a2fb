/**
 * Operator CLI: `npm run events -- tail [subject] [--json] [--all | --since 10m] [--nats URL] [--durable NAME]`.
 * Events go to stdout (pretty or JSON lines), diagnostics to stderr, so `| jq` works.
 */
import { parseArgs } from "node:util";
import { createLogger } from "@metal-kube/logging";
import pino from "pino";
import { DEFAULT_NATS_URL } from "./options.js";
import { createEventSubscriber, type DeliverFrom } from "./subscriber.js";
import { expandSubject, formatJson, formatPretty } from "./tail-format.js";

const USAGE = `usage: events tail [subject] [options]

  subject            NATS subject filter (default metal.>). A bare service name such as
                     machine-driver means metal.machine-driver.>
  --json             one CloudEvent JSON object per line instead of pretty lines
  --all              start with the oldest event the stream holds (default: only new events)
  --since DURATION   start with events of the last DURATION (e.g. 30s, 10m, 2h)
  --nats URL         NATS server (default $NATS_URL or ${DEFAULT_NATS_URL})
  --durable NAME     use (or create) a durable consumer, so a restart continues where it stopped
  --stream NAME      stream name (default METAL)
`;

function fail(message: string): never {
  process.stderr.write(`events: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) fail(`--since ${JSON.stringify(text)} is not a duration like 30s, 10m, 2h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as "ms" | "s" | "m" | "h" | "d"
  ];
  return Math.round(Number(m[1]) * unit);
}

async function tail(args: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        all: { type: "boolean" },
        since: { type: "string" },
        nats: { type: "string" },
        durable: { type: "string" },
        stream: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length > 1) fail(`one subject expected, got ${positionals.join(" ")}`);
  if (values.all && values.since) fail("--all and --since exclude each other");
  const deliver: DeliverFrom = values.all
    ? "all"
    : values.since
      ? { sinceMs: parseDuration(String(values.since)) }
      : "new";
  const logger = createLogger({
    name: "events-tail",
    destination: pino.destination({ dest: 2, sync: true }),
  });
  let sub: ReturnType<typeof createEventSubscriber>;
  try {
    sub = createEventSubscriber({
      natsUrl: (values.nats as string | undefined) ?? process.env.NATS_URL ?? DEFAULT_NATS_URL,
      subject: expandSubject(positionals[0]),
      deliver,
      durable: values.durable as string | undefined,
      streamName: values.stream as string | undefined,
      logger,
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const stop = () => void sub.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // `events tail | head` closes stdout: that is a normal way to stop.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") stop();
  });
  const format = values.json ? formatJson : formatPretty;
  for await (const r of sub.received()) {
    process.stdout.write(`${format(r)}\n`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === "tail") return tail(rest);
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(USAGE);
    return;
  }
  fail(`unknown command ${JSON.stringify(command)}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`events: ${err.message}\n`);
    process.exit(1);
  },
);
