import { z } from "zod";

// Schemas for environment values. Each carries its own error text, so a ConfigError says what is allowed.

export const text = () => z.string({ error: "must be a string" });

export const integer = (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^-?\d+$/, { error: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    );

export const port = () => integer(0, 65535);

export const bool = () =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .transform((v) => ["true", "1", "yes"].includes(v));

export const enumOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

export const url = () =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === "http:" || u.protocol === "https:";
      } catch {
        return false;
      }
    },
    { error: "must be an http(s) URL" },
  );

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** A duration like `500ms`, `30s`, `5m`, `1h`; parsed to milliseconds. */
export const duration = () =>
  z
    .string()
    .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, { error: "must be a duration like 500ms, 30s, 5m or 1h" })
    .transform((v) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v)!;
      return Math.round(Number(m[1]) * UNITS[m[2]!]!);
    });

/** Comma-separated list of non-empty items. */
export const list = () =>
  z.string().transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

/** `host:port` (IPv6 as `[::1]:port`). */
export const hostPort = () =>
  z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
    error: "must be host:port, e.g. 127.0.0.1:50051",
  });

/** Where a gRPC server listens: `host:port` or `unix:///absolute/path` (sidecars share a socket). */
export const listenAddress = () =>
  z.string().regex(/^((\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}|unix:\/\/\/.+|unix:\/.+)$/, {
    error: "must be host:port or unix:///path/to.sock",
  });
