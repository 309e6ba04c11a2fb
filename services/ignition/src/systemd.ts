/** Unit types systemd loads from unit files (and that Ignition accepts as a suffix). */
export const UNIT_SUFFIXES = [
  "service",
  "socket",
  "device",
  "mount",
  "automount",
  "swap",
  "target",
  "path",
  "timer",
  "slice",
  "scope",
] as const;

/** systemd's UNIT_NAME_MAX (256) without the terminating NUL. */
export const UNIT_NAME_MAX = 255;
/** Ignition's unit parser rejects a physical line of this many bytes or more. */
export const UNIT_LINE_MAX_BYTES = 2048;
/** Where Ignition writes units and their drop-ins. */
export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

const SUFFIX_SET = new Set<string>(UNIT_SUFFIXES);
// systemd's valid unit name characters; `@` separates template and instance.
const NAME_CHARS = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?$/;

/** Why a unit name is not valid for systemd and Ignition, or undefined. */
export function unitNameProblem(name: string): string | undefined {
  if (name === "") return "name is required";
  if (name.length > UNIT_NAME_MAX) return `name is longer than ${UNIT_NAME_MAX} characters`;
  const dot = name.lastIndexOf(".");
  const suffix = dot < 0 ? "" : name.slice(dot + 1);
  if (!SUFFIX_SET.has(suffix))
    return `name must end in a unit type suffix (.${UNIT_SUFFIXES.join(", .")}), got ${JSON.stringify(name)}`;
  const prefix = name.slice(0, dot);
  if (prefix === "" || prefix.startsWith("@")) return "name must have a non-empty prefix before the suffix";
  if (!NAME_CHARS.test(prefix))
    return "name may contain only ASCII letters, digits, :, _, ., \\, - and one @";
  return undefined;
}

/** Why a drop-in name is not valid, or undefined. */
export function dropInNameProblem(name: string): string | undefined {
  if (name === "") return "name is required";
  if (!name.endsWith(".conf") || name === ".conf")
    return `name must end in .conf, got ${JSON.stringify(name)}`;
  if (name.length > 255) return "name is longer than 255 characters";
  if (name.startsWith(".")) return "name must not start with .";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected
  if (/[/\x00-\x1f\x7f]/.test(name)) return "name must not contain / or control characters";
  return undefined;
}

/**
 * Why a unit or drop-in body would be refused by Ignition's (and systemd's) unit parser, or
 * undefined. Stricter than Ignition in one way on purpose: an assignment before the first section
 * is an error here, since systemd ignores it and that is never what the author meant.
 */
export function unitContentProblem(content: string): string | undefined {
  if (content.includes("\0")) return "content must not contain NUL";
  let inSection = false;
  let continuing = false;
  let lineNo = 0;
  let start = 0;
  while (start <= content.length) {
    let end = content.indexOf("\n", start);
    if (end < 0) end = content.length;
    const raw = content.slice(start, end);
    lineNo++;
    start = end + 1;
    if (raw.length * 3 >= UNIT_LINE_MAX_BYTES && Buffer.byteLength(raw) >= UNIT_LINE_MAX_BYTES)
      return `line ${lineNo} is ${Buffer.byteLength(raw)} bytes; unit files allow at most ${UNIT_LINE_MAX_BYTES - 1}`;
    const line = raw.trim();
    // Ignition's parser continues a value only when the backslash is the line's last byte: `\` followed
    // by a space or tab ends the value there, and the next line must stand on its own.
    if (continuing) {
      continuing = raw.endsWith("\\");
      continue;
    }
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      if (close < 0) return `line ${lineNo}: section header ${JSON.stringify(line)} has no closing ]`;
      if (close === 1) return `line ${lineNo}: section name is empty`;
      if (line.slice(close + 1).trim() !== "")
        return `line ${lineNo}: unexpected text after section header ${JSON.stringify(line.slice(0, close + 1))}`;
      inSection = true;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0)
      return `line ${lineNo}: expected Key=Value, a [Section] or a comment, got ${JSON.stringify(truncate(line))}`;
    const key = line.slice(0, eq);
    if (key.trim() === "") return `line ${lineNo}: assignment without a key`;
    // Ignition's parser ends a key at a carriage return, then finds no `=`.
    if (key.includes("\r"))
      return `line ${lineNo}: carriage return inside the key ${JSON.stringify(truncate(key))}`;
    if (!inSection) return `line ${lineNo}: assignment before the first [Section]`;
    continuing = raw.endsWith("\\");
  }
  return undefined;
}

/** True when the body has an [Install] section (needed for `enabled` to do anything). */
export function hasInstallSection(content: string): boolean {
  return /^[ \t]*\[Install\][ \t]*$/m.test(content);
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
