import { readFileSync } from "node:fs";
import { ServerCredentials } from "@grpc/grpc-js";

export interface TlsOptions {
  /** PEM server certificate (chain). */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS). */
  clientCaFile?: string | undefined;
}

/** Plaintext without TLS options; TLS or mutual TLS from PEM files otherwise. */
export function serverCredentials(tls: TlsOptions | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const ca = tls.clientCaFile ? read("client CA", tls.clientCaFile) : null;
  return ServerCredentials.createSsl(
    ca,
    [{ cert_chain: read("certificate", tls.certFile), private_key: read("key", tls.keyFile) }],
    ca !== null,
  );
}
