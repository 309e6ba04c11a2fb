// How request parts are named in field errors.

/** How a file is named in errors: its index and, when it has one, its path. */
export function fileField(index: number, path: string, list = "files"): string {
  return path ? `${list}[${index}] (${path})` : `${list}[${index}]`;
}

export function unitField(index: number, name: string): string {
  return name ? `units[${index}] (${name})` : `units[${index}]`;
}
