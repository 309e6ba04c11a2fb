// How the renderer names the files and units of a request in its errors (collected by the kit's Violations).

/** How a file is named in errors: its index and, when it has one, its path. */
export function fileField(index: number, path: string, list = "files"): string {
  return path ? `${list}[${index}] (${path})` : `${list}[${index}]`;
}

export function unitField(index: number, name: string): string {
  return name ? `units[${index}] (${name})` : `units[${index}]`;
}
