import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCommand } from "./run-command.js";

export interface TestbedCerts {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  /** RSA key pair that signs and verifies ServiceAccount tokens. */
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** PEM contents, for kubeconfigs (inline data, so the files stay valid if moved). */
  pem: { ca: string; adminCert: string; adminKey: string };
}

/** Admin identity: system:masters is bound to cluster-admin by the default RBAC policy. */
export const ADMIN_USER = "metal-kube-admin";
const DAYS = "3650";

/**
 * A private CA, the apiserver's serving certificate (127.0.0.1 and localhost), an admin client
 * certificate, and the ServiceAccount signing key, all under `dir`. openssl does X.509 because node
 * has no certificate writer; it is in Debian's base set and installed when missing.
 */
export async function makeCerts(dir: string): Promise<TestbedCerts> {
  const p = (f: string) => join(dir, f);
  const ossl = (args: string[]) => runCommand("openssl", args, { cwd: dir });
  const ecKey = (out: string) =>
    ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", out]);

  await ecKey(p("ca.key"));
  await ossl([
    "req",
    "-x509",
    "-new",
    "-key",
    p("ca.key"),
    "-subj",
    "/CN=metal-kube-testbed-ca",
    "-days",
    DAYS,
    "-out",
    p("ca.crt"),
  ]);

  const leaf = async (name: string, subj: string, ext: string) => {
    await ecKey(p(`${name}.key`));
    await ossl(["req", "-new", "-key", p(`${name}.key`), "-subj", subj, "-out", p(`${name}.csr`)]);
    writeFileSync(p(`${name}.ext`), ext);
    await ossl([
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      DAYS,
      "-extfile",
      p(`${name}.ext`),
      "-out",
      p(`${name}.crt`),
    ]);
  };
  await leaf(
    "serving",
    "/CN=kube-apiserver",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n",
  );
  await leaf(
    "admin",
    `/O=system:masters/CN=${ADMIN_USER}`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );

  const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(p("sa.key"), sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  writeFileSync(p("sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));

  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    servingCert: p("serving.crt"),
    servingKey: p("serving.key"),
    adminCert: p("admin.crt"),
    adminKey: p("admin.key"),
    serviceAccountKey: p("sa.key"),
    serviceAccountPub: p("sa.pub"),
    pem: {
      ca: readFileSync(p("ca.crt"), "utf8"),
      adminCert: readFileSync(p("admin.crt"), "utf8"),
      adminKey: readFileSync(p("admin.key"), "utf8"),
    },
  };
}
