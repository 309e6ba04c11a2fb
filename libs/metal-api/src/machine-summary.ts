import type { PickShape } from "./json-pick.js";

/**
 * What lists of many machines need (ownership, providerID, node name): a find decoded into these fields
 * only costs a fraction of the full MachineResponse in time and memory. Each field named here costs
 * decoding time over thousands of machines, so it holds only what a caller uses.
 */
export interface MachineSummary {
  id: string;
  partition?: { id?: string } | null;
  tags?: string[] | null;
  allocation?: {
    name?: string;
    hostname?: string;
    project?: string;
    role?: string;
  } | null;
}

export const MACHINE_SUMMARY_SHAPE: PickShape = {
  id: true,
  partition: { id: true },
  tags: true,
  allocation: { name: true, hostname: true, project: true, role: true },
};
