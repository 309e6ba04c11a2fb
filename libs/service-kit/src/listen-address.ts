/** `host:port` or `unix:///path` -> the address grpc-js binds. Port 0 asks for a free one. */
export function grpcBindAddress(listen: string): string {
  if (listen.startsWith("unix:"))
    return listen.startsWith("unix:///") ? `unix:${listen.slice("unix://".length)}` : listen;
  return listen;
}

/** Splits host:port (IPv6 in brackets) for node:http. */
export function splitHostPort(listen: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new Error(`not host:port: ${listen}`);
  return { host: m[1]!, port: Number(m[2]) };
}
