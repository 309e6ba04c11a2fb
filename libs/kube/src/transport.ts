import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeError, type RequestTarget } from "./kube-error.js";
import { parseOptions } from "./parse-options.js";
import type { KubeStatus, WatchEvent } from "./types.js";

/** Parallel connections to the apiserver; watches hold one each. */
export const DEFAULT_MAX_SOCKETS = 64;
/** A unary call that takes longer than this is aborted. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Auth headers (tokens, exec plugins) are recomputed at this period so rotated credentials are picked up. */
export const DEFAULT_AUTH_REFRESH_MS = 60_000;

export interface TransportOptions {
  /** client-node KubeConfig (current context) that supplies the server, TLS material and credentials. */
  kubeConfig: KubeConfig;
  maxSockets?: number;
  requestTimeoutMs?: number;
  authRefreshMs?: number;
  userAgent?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  /** Content type of a body; JSON unless a patch type is given. */
  contentType?: string;
  target: RequestTarget;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type WatchEnd = "closed" | "idle" | "aborted";

export interface WatchRequest extends KubeRequest {
  /** The watch is aborted when no byte arrives for this long (a silently dead connection). */
  idleTimeoutMs: number;
}

/**
 * HTTP access to one apiserver with the credentials of a KubeConfig. The kit talks JSON over a keep-alive
 * agent itself instead of through client-node's generated per-group clients, so that any resource (core,
 * aggregated or custom) is addressed the same way, errors carry verb and resource, and watches expose
 * every failure to the informer, which decides how to resume.
 */
export interface Transport {
  request<T>(req: KubeRequest): Promise<T>;
  /**
   * Streams watch events to `onEvent`. Resolves with how the watch ended when the server ends it
   * normally ("closed"), no byte arrived for `idleTimeoutMs` ("idle": the caller re-opens at once, since
   * a quiet resource without bookmarks looks the same as a dead connection) or `signal` aborted it;
   * rejects with a KubeError on any other end (HTTP error, ERROR event, reset, bad JSON).
   */
  watch(req: WatchRequest, onEvent: (event: WatchEvent) => void): Promise<WatchEnd>;
  /** Identity named in error messages (kubeconfig user). */
  readonly identity: string;
  readonly server: string;
  close(): void;
}

interface Auth {
  headers: Record<string, string>;
  at: number;
}

export function createTransport(options: TransportOptions): Transport {
  const opts = parseOptions(
    {
      maxSockets: DEFAULT_MAX_SOCKETS,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      authRefreshMs: DEFAULT_AUTH_REFRESH_MS,
      userAgent: "metal-kube",
    },
    options,
    "TransportOptions",
  );
  const kc = opts.kubeConfig;
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    throw new TypeError("TransportOptions.kubeConfig: the current context names no cluster server");
  const base = new URL(cluster.server);
  const secure = base.protocol === "https:";
  const identity = kc.getCurrentUser()?.name ?? "the adapter's identity";
  let agent: http.Agent | undefined;
  let watchAgent: http.Agent | undefined;
  let auth: Auth | undefined;
  let authPending: Promise<Auth> | undefined;

  async function loadAuth(): Promise<Auth> {
    const o: https.RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(o);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString("base64")}`;
    if (!agent) {
      const tls = secure
        ? pick(o, ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"])
        : {};
      const make = (options: http.AgentOptions) =>
        secure ? new https.Agent({ ...options, ...tls }) : new http.Agent(options);
      agent = make({ keepAlive: true, maxSockets: opts.maxSockets, scheduling: "lifo" });
      // Watches hold their connection for minutes: a pool of their own, so that many informers can
      // never use up the sockets unary requests need.
      watchAgent = make({ keepAlive: false });
    }
    return { headers, at: Date.now() };
  }

  async function getAuth(): Promise<Auth> {
    if (auth && Date.now() - auth.at < opts.authRefreshMs) return auth;
    authPending ??= loadAuth().finally(() => {
      authPending = undefined;
    });
    auth = await authPending;
    return auth;
  }

  function url(req: KubeRequest): string {
    let s = base.pathname.replace(/\/$/, "") + req.path;
    const q = req.query;
    if (q) {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(q)) {
        if (v !== undefined && v !== "") parts.push(`${k}=${encodeURIComponent(String(v))}`);
      }
      if (parts.length) s += `?${parts.join("&")}`;
    }
    return s;
  }

  async function open(
    req: KubeRequest,
    headerTimeoutMs: number,
    forWatch = false,
  ): Promise<{ res: http.IncomingMessage; creq: http.ClientRequest }> {
    const a = await getAuth();
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string | number> = {
      ...a.headers,
      Accept: "application/json",
      "User-Agent": opts.userAgent,
    };
    if (body) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      headers["Content-Length"] = body.length;
    }
    return new Promise((resolve, reject) => {
      const creq = (secure ? https : http).request({
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port || (secure ? 443 : 80),
        method: req.method,
        path: url(req),
        headers,
        agent: forWatch ? watchAgent : agent,
        signal: req.signal,
      });
      // Bounds connect + response headers; a blackholed apiserver would otherwise hang a watch forever.
      const onTimeout = () => creq.destroy(new Error(`no response within ${headerTimeoutMs} ms`));
      creq.setTimeout(headerTimeoutMs, onTimeout);
      creq.once("response", (res) => {
        creq.removeListener("timeout", onTimeout);
        creq.setTimeout(0);
        resolve({ res, creq });
      });
      // `on`, not `once`: a socket can emit a second error after the first (reset after timeout).
      creq.on("error", (err) => reject(networkError(req, err)));
      creq.end(body);
    });
  }

  function networkError(req: KubeRequest, err: unknown): KubeError {
    return err instanceof KubeError
      ? err
      : new KubeError(req.target, 0, undefined, { cause: err, user: identity });
  }

  async function readBody(res: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  function httpError(req: KubeRequest, status: number, text: string): KubeError {
    let body: KubeStatus | undefined;
    try {
      body = JSON.parse(text) as KubeStatus;
    } catch {
      body = { message: text.slice(0, 500) || `HTTP ${status}` };
    }
    return new KubeError(req.target, status, body, { user: identity });
  }

  return {
    identity,
    server: cluster.server,
    async request<T>(req: KubeRequest): Promise<T> {
      const timeout = AbortSignal.timeout(req.timeoutMs ?? opts.requestTimeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      try {
        const { res } = await open({ ...req, signal }, req.timeoutMs ?? opts.requestTimeoutMs);
        const text = await readBody(res);
        const status = res.statusCode ?? 0;
        if (status >= 400) throw httpError(req, status, text);
        return (text ? JSON.parse(text) : undefined) as T;
      } catch (err) {
        throw networkError(req, err);
      }
    },
    async watch(req: WatchRequest, onEvent: (event: WatchEvent) => void): Promise<WatchEnd> {
      if (req.signal?.aborted) return "aborted";
      let opened: { res: http.IncomingMessage; creq: http.ClientRequest };
      try {
        opened = await open(req, req.timeoutMs ?? opts.requestTimeoutMs, true);
      } catch (err) {
        if (req.signal?.aborted) return "aborted";
        throw err;
      }
      const { res, creq } = opened;
      const status = res.statusCode ?? 0;
      if (status >= 400) throw httpError(req, status, await readBody(res));
      return new Promise<WatchEnd>((resolve, reject) => {
        let buf = "";
        let ended = false;
        let idle = false;
        let failed: unknown;
        const fail = (err: unknown) => {
          failed ??= err;
          creq.destroy();
        };
        creq.setTimeout(req.idleTimeoutMs, () => {
          idle = true;
          creq.destroy();
        });
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (failed !== undefined) return;
          buf += chunk;
          let nl = buf.indexOf("\n");
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) {
              try {
                onEvent(JSON.parse(line) as WatchEvent);
              } catch (err) {
                fail(err);
                return;
              }
            }
            nl = buf.indexOf("\n");
          }
        });
        res.once("end", () => {
          ended = true;
        });
        res.once("error", fail);
        res.once("close", () => {
          if (req.signal?.aborted) resolve("aborted");
          else if (idle) resolve("idle");
          else if (failed !== undefined) reject(networkError(req, failed));
          else if (ended) resolve("closed");
          else reject(networkError(req, new Error("watch connection closed before the stream ended")));
        });
      });
    },
    close() {
      agent?.destroy();
      watchAgent?.destroy();
    },
  };
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
