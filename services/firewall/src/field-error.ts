/** Bad input at a field: `path` is relative to the object being checked (e.g. `egress[0].to[1].cidr`). */
export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "FieldError";
  }
}

export const fail = (path: string, problem: string): never => {
  throw new FieldError(path, problem);
};
