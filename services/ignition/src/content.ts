import type { File } from "@metal-kube/proto/metalstack/ignition/v1/ignition";

/** The inline encodings Gardener writes: none (plain text) or standard base64 under either name. */
export const INLINE_ENCODINGS = ["", "b64", "base64"] as const;

export type ContentResult =
  | { ok: true; data: Buffer }
  /** Content that lives elsewhere (an image) and that this purpose does not need. */
  | { ok: true; data: undefined }
  | { ok: false; message: string };

/**
 * Strict standard base64: padding required, no URL-safe alphabet. Line breaks are ignored because
 * base64 tools wrap lines and Go's decoder (which Gardener uses) skips them too.
 */
export function decodeBase64Strict(input: string): Buffer | string {
  const s = input.includes("\n") || input.includes("\r") ? input.replace(/[\r\n]/g, "") : input;
  if (s.length % 4 !== 0)
    return `invalid base64: length ${s.length} is not a multiple of 4 (padding is required)`;
  // Buffer.from skips what it cannot read, so the bytes are valid exactly when they encode back to
  // the input (this also rejects non-zero padding bits). Far cheaper than a regular expression.
  const bytes = Buffer.from(s, "base64");
  if (bytes.toString("base64") === s) return bytes;
  const bad = s.search(/[^A-Za-z0-9+/=]|=[^=]/);
  if (bad >= 0)
    return `invalid base64: unexpected character ${JSON.stringify(s[bad] === "=" ? s[bad + 1] : s[bad])} at offset ${s[bad] === "=" ? bad + 1 : bad}`;
  return "invalid base64: bad padding";
}

/**
 * The bytes of a file. `needBytes` is false for PURPOSE_RECONCILE, where OSC files are not
 * rendered: secret and image references are then accepted unresolved.
 */
export function fileContent(file: File, needBytes: boolean): ContentResult {
  const source = file.content?.source;
  if (!source) return { ok: false, message: "content needs one source: inline, secret_ref or image_ref" };
  switch (source.$case) {
    case "inline": {
      const { encoding, data } = source.value;
      if (encoding === "") return { ok: true, data: Buffer.from(data, "utf8") };
      if (encoding === "b64" || encoding === "base64") {
        const decoded = decodeBase64Strict(data);
        return typeof decoded === "string" ? { ok: false, message: decoded } : { ok: true, data: decoded };
      }
      return {
        ok: false,
        message: `unknown content encoding ${JSON.stringify(encoding)} (use "", "b64" or "base64")`,
      };
    }
    case "secretRef": {
      const { name, dataKey, data } = source.value;
      if (!name) return { ok: false, message: "secret_ref needs the Secret's name" };
      if (!dataKey) return { ok: false, message: "secret_ref needs a data_key" };
      if (data === undefined) {
        if (!needBytes) return { ok: true, data: undefined };
        return {
          ok: false,
          message: `secret_ref ${name}/${dataKey} is not resolved (the caller must fill in data)`,
        };
      }
      return { ok: true, data };
    }
    case "imageRef": {
      const { image, filePathInImage } = source.value;
      if (!image || !filePathInImage)
        return { ok: false, message: "image_ref needs image and file_path_in_image" };
      if (!needBytes) return { ok: true, data: undefined };
      return {
        ok: false,
        message: `image_ref content (${filePathInImage} in ${image}) cannot be put into Ignition user data; inline it or use a secret_ref`,
      };
    }
  }
}
