// One ava run over every workspace's tests, TypeScript loaded through tsx (no build step).
export default {
  files: ["libs/*/test/**/*.test.ts", "services/*/test/**/*.test.ts", "e2e/test/**/*.test.ts"],
  extensions: { ts: "module" },
  nodeArguments: ["--import=tsx"],
  timeout: "3m",
  concurrency: 2,
  workerThreads: false,
};
