// The extension service process: admission of metal Shoots, CloudProfiles and credentials, and the
// seed's control plane mutations, as gRPC services (package metalstack.extension.v1).
import { runService } from "@metal-kube/service-kit";
import { createAdmission } from "./admission.js";
import {
  DEFAULT_LISTEN,
  DEFAULT_METRICS_LISTEN,
  extensionConfigSpec,
  shootDefaultsFrom,
  sidecarOptionsFrom,
} from "./config.js";
import { createPublisherEventSink } from "./events.js";
import { createSeedMutation } from "./seed-mutation.js";
import { createAdmissionService, createSeedMutationService } from "./service.js";

await runService({
  name: "extension",
  defaults: { listen: DEFAULT_LISTEN, metricsListen: DEFAULT_METRICS_LISTEN },
  config: extensionConfigSpec,
  async setup({ config, events, logger }) {
    const admission = createAdmission({
      defaults: shootDefaultsFrom(config),
      // metal.extension.admission.{denied,defaulted} through the kit's outbox publisher.
      events: createPublisherEventSink(events, logger),
    });
    const seed = createSeedMutation({ sidecars: sidecarOptionsFrom(config) });
    return {
      services: [createAdmissionService(admission), createSeedMutationService(seed)],
      // Credentials Secrets and the cloudprovider Secret cross as JSON: never logged, not even at debug.
      secretFields: ["secret", "oldSecret", "context"],
    };
  },
});
