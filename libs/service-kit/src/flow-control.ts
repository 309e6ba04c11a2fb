import type { Http2Server, Http2Session, ServerOptions } from "node:http2";
import type { Server } from "@grpc/grpc-js";

/**
 * HTTP/2 flow-control window the server grants each connection and each stream. Node's 64 KiB default
 * makes a large request (an OperatingSystemConfig is ~280 KiB) wait for several window updates from a
 * busy event loop; with 4 MiB it arrives in one go. Memory stays bounded by the maximum message size.
 */
export const DEFAULT_FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * grpc-js has no option for its server's window, only for its client's. These are the fields it builds
 * its HTTP/2 servers from (grpc-js is pinned; the kit's flow-control test fails if they move).
 */
interface GrpcServerInternals {
  commonServerOptions?: ServerOptions;
  http2Servers?: Map<Http2Server, unknown>;
}

/** Sets the per-stream window every new HTTP/2 server advertises. Call before bindAsync. */
export function setStreamWindow(server: Server, bytes: number): void {
  const internals = server as unknown as GrpcServerInternals;
  if (!internals.commonServerOptions)
    throw new Error("grpc-js Server internals changed: no commonServerOptions");
  internals.commonServerOptions.settings = {
    ...internals.commonServerOptions.settings,
    initialWindowSize: bytes,
  };
}

/** Widens the connection-level window of every session of the bound HTTP/2 servers. Call after bindAsync. */
export function setConnectionWindow(server: Server, bytes: number): void {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!servers) throw new Error("grpc-js Server internals changed: no http2Servers");
  for (const h of servers.keys()) h.on("session", (s: Http2Session) => s.setLocalWindowSize(bytes));
}
