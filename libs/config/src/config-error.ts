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
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}
