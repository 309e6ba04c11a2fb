import { z } from "zod";

/** Fault injection for tests, changed at run time through POST /emulator/faults. */
export interface Faults {
  /** Added to every /v1 request before it is handled. */
  latencyMs: number;
  /** Share (0..1) of /v1 requests answered 500 without touching state. */
  errorRate: number;
  /** /v1 connections are closed without an answer (the control endpoints stay up). */
  down: boolean;
  /** The next N machine/firewall allocations are committed, but their answer is dropped (connection closed). */
  dropAllocateResponses: number;
}

export const DEFAULT_FAULTS: Faults = { latencyMs: 0, errorRate: 0, down: false, dropAllocateResponses: 0 };

export const faultsPatch = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    errorRate: z.number().min(0).max(1).optional(),
    down: z.boolean().optional(),
    dropAllocateResponses: z.number().int().min(0).optional(),
  })
  .strict();
