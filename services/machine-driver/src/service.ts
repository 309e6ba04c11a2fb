// gRPC wiring: the MachineDriver service definition bound to the domain.

import { MachineDriverService } from "@metal-kube/proto/metalstack/machinedriver/v1/machine_driver";
import { defineService, type ServiceRegistration } from "@metal-kube/service-kit";
import type { MachineDriver } from "./machine-driver.js";

export const SERVICE_NAME = "metalstack.machinedriver.v1.MachineDriver";

export function machineDriverService(driver: MachineDriver): ServiceRegistration {
  return defineService(MachineDriverService, {
    createMachine: (req, ctx) => driver.createMachine(req, ctx),
    initializeMachine: (req, ctx) => driver.initializeMachine(req, ctx),
    deleteMachine: (req, ctx) => driver.deleteMachine(req, ctx),
    getMachineStatus: (req, ctx) => driver.getMachineStatus(req, ctx),
    listMachines: (req, ctx) => driver.listMachines(req, ctx),
    getVolumeIDs: (req, ctx) => driver.getVolumeIds(req, ctx),
  });
}
