/** An error answered as metal-api does: `{statuscode, message}` with the same status codes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg);
export const forbidden = (msg: string) => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);
export const conflict = (msg: string) => new ApiError(409, msg);
/** metal-api's default for domain errors ("no machine available", "machine is locked", ...). */
export const unprocessable = (msg: string) => new ApiError(422, msg);
