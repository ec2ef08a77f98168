#!/usr/bin/env node
// The one executable: the CLI, and inside the cluster `ktf operator` and `ktf runner`.
// This is the only place that exits the process. The operator and the runner are loaded
// only when asked for, so that the CLI and run pods start fast.
import { main } from "../cli/index.js";

const code = await main(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() },
  {
    operator: async (args) => (await import("../operator/main.js")).runOperator(args, process.env),
    githubServe: async (args) => (await import("../github/serve.js")).runGitHubReceiver(args, process.env),
    runner: async () => {
      const [{ runRunner }, { createLogger }] = await Promise.all([import("../runner/main.js"), import("../log.js")]);
      return runRunner({ env: process.env, log: createLogger({ name: "runner" }) });
    },
    stateServer: async () => {
      const [{ runStateSidecar }, { connectToCluster }, { createLogger }] = await Promise.all([
        import("../runner/state-sidecar.js"),
        import("../kube/connect.js"),
        import("../log.js"),
      ]);
      return runStateSidecar({ env: process.env, client: connectToCluster({}).client, log: createLogger({ name: "state" }) });
    },
  },
);
// Let stdout drain before leaving (a pipe may still hold the engine's last lines).
process.stdout.write("", () => process.exit(code));
