import { writeFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

export type KubeconfigCredentials = { clientCertPem: string; clientKeyPem: string } | { token: string };

export interface WriteKubeconfigOptions {
  path: string;
  server: string;
  caPem: string;
  user: string;
  credentials: KubeconfigCredentials;
  namespace?: string;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

/**
 * Writes a self-contained kubeconfig (certificates inline). JSON is valid YAML, so kubectl and
 * client-node read it as any kubeconfig. Mode 0600: it holds credentials.
 */
export function writeKubeconfig(o: WriteKubeconfigOptions): string {
  const user =
    "token" in o.credentials
      ? { token: o.credentials.token }
      : {
          "client-certificate-data": b64(o.credentials.clientCertPem),
          "client-key-data": b64(o.credentials.clientKeyPem),
        };
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "testbed", cluster: { server: o.server, "certificate-authority-data": b64(o.caPem) } },
    ],
    users: [{ name: o.user, user }],
    contexts: [
      { name: o.user, context: { cluster: "testbed", user: o.user, namespace: o.namespace ?? "default" } },
    ],
    "current-context": o.user,
  };
  writeFileSync(o.path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  return o.path;
}

/** A client-node KubeConfig loaded from a kubeconfig file. */
export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
