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
 * Serialises the config as Ignition JSON with a fixed key order, so equal configs give equal bytes
 * (the same bytes JSON.stringify would give for objects built in that order).
 */
export function toIgnitionJson(config: OutConfig, version: IgnitionVersion, encoder: DataUrlEncoder): string {
  const v2 = version.startsWith("2.");
  const parts: string[] = [`{"ignition":{"version":${JSON.stringify(version)}}`];
  if (config.files.length > 0) {
    parts.push(',"storage":{"files":[');
    config.files.forEach((f, i) => {
      // Spec 2.3.0 has gzip too, but the Ignition 0.x in today's images is kept on plain data.
      const c = encoder.encode(f.data, !v2);
      // Data URLs are base64 or percent-encoded ASCII: nothing in them needs JSON escaping, so the
      // (large) sources are concatenated as they are instead of being scanned by JSON.stringify.
      const contents = c.compression
        ? `{"compression":"gzip","source":"${c.source}"}`
        : `{"source":"${c.source}"}`;
      const path = JSON.stringify(f.path);
      parts.push(
        i > 0 ? "," : "",
        v2
          ? `{"filesystem":"root","path":${path},"overwrite":true,"contents":${contents},"mode":${f.mode}}`
          : `{"path":${path},"overwrite":true,"contents":${contents},"mode":${f.mode}}`,
      );
    });
    parts.push("]}");
  }
  if (config.units.length > 0) {
    const units = config.units.map((u) => {
      const unit: Record<string, unknown> = { name: u.name };
      if (u.enabled !== undefined) unit.enabled = u.enabled;
      if (u.contents !== undefined) unit.contents = u.contents;
      if (u.dropIns.length > 0) unit.dropins = u.dropIns.map((d) => ({ name: d.name, contents: d.contents }));
      return unit;
    });
    parts.push(`,"systemd":{"units":${JSON.stringify(units)}}`);
  }
  parts.push("}");
  return parts.join("");
}
