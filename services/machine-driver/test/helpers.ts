// Request builders and a call context for the domain's unit tests.

import { Writable } from "node:stream";
import { createLogger, type Logger } from "@metal-kube/logging";
import type { MachineClass, Secret } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import type { CallInfo } from "../src/machine-driver.js";

export const CLUSTER = "c0ffee00-1111-2222-3333-444455556666";
export const PROJECT = "prj-1";
export const PARTITION = "fra-equ01";
export const HMAC = "very-secret-hmac-key-4711";
export const USER_DATA = '{"ignition":{"version":"3.3.0"},"secret":"bootstrap-token-abc.def"}';

export function spec(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    partition: PARTITION,
    size: "c1-xlarge-x86",
    image: "ubuntu-24.04",
    project: PROJECT,
    network: "net-private-1",
    tags: [`cluster.metal-stack.io/id=${CLUSTER}`, "kubernetes.io/role=node", "pool=worker-a"],
    sshKeys: ["ssh-ed25519 AAAA test"],
    dnsServers: [{ ip: "1.1.1.1" }],
    ntpServers: [{ address: "pool.ntp.org" }],
    ...over,
  };
}

export function machineClass(over: Record<string, unknown> = {}, raw?: string): MachineClass {
  return {
    name: "worker-a-abc12",
    providerSpec: raw ?? JSON.stringify(spec(over)),
    nodeTemplate: undefined,
    provider: "metal",
  };
}

export function secret(over: Partial<Secret> = {}): Secret {
  return {
    userData: Buffer.from(USER_DATA),
    metalApiUrl: "http://127.0.0.1:8080",
    metalApiKey: "",
    metalApiHmac: HMAC,
    ...over,
  };
}

export function machine(name: string, providerId = "") {
  return { name, namespace: "shoot--p--c", providerId, labels: {} };
}

export interface CapturedLogger {
  logger: Logger;
  text(): string;
}

export function capturedLogger(): CapturedLogger {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    logger: createLogger({ name: "machine-driver-test", level: "debug", destination }),
    text: () => chunks.join(""),
  };
}

export function call(logger: Logger, o: { deadlineMs?: number; signal?: AbortSignal } = {}): CallInfo {
  return {
    signal: o.signal ?? new AbortController().signal,
    deadline: o.deadlineMs === undefined ? undefined : new Date(Date.now() + o.deadlineMs),
    logger,
  };
}
