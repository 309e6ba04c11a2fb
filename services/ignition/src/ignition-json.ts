import type { DataUrlEncoder } from "./data-url.js";
import type { IgnitionVersion } from "./spec-version.js";

/** A file as it goes into user data: validated, decoded, with its final mode. */
export interface OutFile {
  path: string;
  mode: number;
  data: Buffer;
}

export interface OutDropIn {
  name: string;
  contents: string;
}

/** A unit as it goes into user data. `enabled` undefined leaves the image's state alone. */
export interface OutUnit {
  name: string;
  enabled: boolean | undefined;
  contents: string | undefined;
  dropIns: OutDropIn[];
}

/** The whole machine configuration, files sorted by path and units by name. */
export interface OutConfig {
  files: OutFile[];
  units: OutUnit[];
}

/**
 * Serialises the config as Ignition JSON. Objects are built with a fixed key order and
 * JSON.stringify keeps insertion order, so equal configs give equal bytes.
 */
export function toIgnitionJson(config: OutConfig, version: IgnitionVersion, encoder: DataUrlEncoder): string {
  const v2 = version.startsWith("2.");
  const root: Record<string, unknown> = { ignition: { version } };
  if (config.files.length > 0) {
    root.storage = {
      files: config.files.map((f) => {
        // Spec 2.3.0 has gzip too, but the Ignition 0.x in today's images is kept on plain data.
        const contents = encoder.encode(f.data, !v2);
        return v2
          ? {
              filesystem: "root",
              path: f.path,
              overwrite: true,
              contents: { source: contents.source },
              mode: f.mode,
            }
          : {
              path: f.path,
              overwrite: true,
              contents: contents.compression
                ? { compression: contents.compression, source: contents.source }
                : { source: contents.source },
              mode: f.mode,
            };
      }),
    };
  }
  if (config.units.length > 0) {
    root.systemd = {
      units: config.units.map((u) => {
        const unit: Record<string, unknown> = { name: u.name };
        if (u.enabled !== undefined) unit.enabled = u.enabled;
        if (u.contents !== undefined) unit.contents = u.contents;
        if (u.dropIns.length > 0)
          unit.dropins = u.dropIns.map((d) => ({ name: d.name, contents: d.contents }));
        return unit;
      }),
    };
  }
  return JSON.stringify(root);
}
