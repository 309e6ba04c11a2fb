// Process entry of the ignition gRPC service.
import { startIgnitionServer } from "./server.js";

await startIgnitionServer();
