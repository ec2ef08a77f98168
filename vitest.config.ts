import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The end-to-end files share one cluster and wait on it more than they compute, so
    // more of them run at once than this machine has cores.
    poolOptions: { forks: { maxForks: 4, minForks: 1 } },
    projects: [
      // Generous limits: a few tests spawn git or load a command's modules, slow on a busy machine.
      { test: { name: "unit", include: ["src/**/*.test.ts", "scripts/**/*.test.ts"], testTimeout: 20_000, hookTimeout: 30_000 } },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          // They reinstall the operator with several replicas: alone, after the others (scripts/test.sh).
          exclude: ["test/replicas/**"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "replicas",
          include: ["test/replicas/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
