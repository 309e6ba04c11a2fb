import { maskUrlCredentials } from "./mask-url.js";

export interface ConfigIssue {
  /** The environment variable at fault. */
  variable: string;
  /** What is allowed, in words. */
  message: string;
}

/** All problems of one configuration at once, each naming its variable, so one restart fixes them all. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    // A second fence: a message built outside parseConfig that echoes a URL still shows no credentials.
    const masked = issues.map((i) => ({ ...i, message: maskUrlCredentials(i.message) }));
    super(`invalid configuration:\n${masked.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = masked;
  }
}
