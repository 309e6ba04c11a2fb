/** Linux limits: a whole path and one name. */
export const PATH_MAX_BYTES = 4095;
export const NAME_MAX_BYTES = 255;

/**
 * Why a file path cannot be written by Ignition, or undefined when it can. Ignition wants absolute,
 * fully simplified paths (its own validator rejects `.`/`..` segments, `//` and trailing slashes).
 */
export function pathProblem(path: string): string | undefined {
  if (path === "") return "path is required";
  if (!path.startsWith("/")) return "path must be absolute";
  if (path === "/") return "path must name a file, not /";
  if (path.includes("\0")) return "path must not contain NUL";
  if (Buffer.byteLength(path) > PATH_MAX_BYTES) return `path is longer than ${PATH_MAX_BYTES} bytes`;
  if (path.endsWith("/")) return "path must not end with /";
  const segments = path.slice(1).split("/");
  for (const s of segments) {
    if (s === "") return "path must not contain //";
    if (s === "." || s === "..") return "path must not contain . or .. segments";
    if (Buffer.byteLength(s) > NAME_MAX_BYTES) return `path has a name longer than ${NAME_MAX_BYTES} bytes`;
  }
  return undefined;
}

/** Every proper ancestor directory of a valid absolute path, nearest last: /a/b/c -> /a, /a/b. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf("/", 1);
  while (i > 0) {
    out.push(path.slice(0, i));
    i = path.indexOf("/", i + 1);
  }
  return out;
}
